//! The asyncio side: core futures run on the runtime, and their outcomes reach Python through
//! the completion pump, which resolves asyncio futures with `loop.call_soon_threadsafe` (one call
//! per loop per batch) and calls send callbacks. Runtime workers never take the GIL.

use std::future::Future;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;

use crate::pump::{self, PidChannel};
use crate::runtime::runtime;

/// Turns a core outcome into a Python value (or exception), under the GIL.
pub(crate) type Resolve = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

enum Target {
    /// An asyncio future of `event_loop`.
    Future { event_loop: Py<PyAny>, future: Py<PyAny> },
    /// `callback(result, exception)`, called on the pump thread.
    Callback(Py<PyAny>),
}

struct Completion {
    target: Target,
    resolve: Resolve,
}

static COMPLETIONS: PidChannel<Completion> = PidChannel::new();

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

/// Runs `fut` on the runtime and returns an asyncio future of the running loop that completes
/// with `convert(outcome)`.
pub(crate) fn spawn_future<F, T>(
    py: Python<'_>,
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
    let future = event_loop.bind(py).call_method0("create_future")?.unbind();
    let target = Target::Future { event_loop, future: future.clone_ref(py) };
    spawn(fut, target, convert)?;
    Ok(future)
}

/// Runs `fut` on the runtime and calls `callback(result, exception)` on the pump thread.
pub(crate) fn spawn_callback<F, T>(
    fut: F,
    callback: Py<PyAny>,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<()>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    spawn(fut, Target::Callback(callback), convert)
}

fn spawn<F, T>(
    fut: F,
    target: Target,
    convert: impl FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
) -> PyResult<()>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tx = COMPLETIONS.sender();
    runtime()?.spawn(async move {
        let outcome = fut.await;
        let resolve: Resolve = Box::new(move |py| convert(py, outcome));
        // Fails only when the pump is gone (interpreter exit): nobody is waiting then.
        let _ = tx.send(Completion { target, resolve });
    });
    Ok(())
}

/// An already completed asyncio future (for `__aenter__`).
pub(crate) fn ready(py: Python<'_>, value: Py<PyAny>) -> PyResult<Py<PyAny>> {
    let event_loop = running_loop(py)?.ok_or_else(|| PyRuntimeError::new_err("no running event loop"))?;
    let future = event_loop.bind(py).call_method0("create_future")?;
    future.call_method1("set_result", (value,))?;
    Ok(future.unbind())
}

/// The completion pump: runs on a daemon thread of the package until the exit hook stops it.
#[pyfunction]
#[pyo3(name = "_completion_pump")]
pub(crate) fn completion_pump(py: Python<'_>) -> PyResult<()> {
    pump::clear_stop();
    let Some(rx) = COMPLETIONS.take_receiver() else {
        return Err(PyRuntimeError::new_err("the completion pump is already running"));
    };
    let resolve_batch = helper(py, "resolve_futures")?.unbind();
    let call_callback = helper(py, "call_send_callback")?.unbind();
    let result = loop {
        let batch = py.detach(|| pump::recv_batch(&rx));
        if batch.is_empty() {
            if pump::stopping() {
                break Ok(());
            }
            continue;
        }
        // Futures grouped by loop: one call_soon_threadsafe per loop per batch.
        let mut per_loop: Vec<(Py<PyAny>, Bound<'_, PyList>)> = Vec::new();
        for Completion { target, resolve } in batch {
            let (ok, value) = match resolve(py) {
                Ok(v) => (true, v),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            match target {
                Target::Future { event_loop, future } => {
                    let list = match per_loop.iter().position(|(l, _)| l.is(&event_loop)) {
                        Some(i) => per_loop[i].1.clone(),
                        None => {
                            let list = PyList::empty(py);
                            per_loop.push((event_loop, list.clone()));
                            list
                        }
                    };
                    list.append((future, ok, value))?;
                }
                Target::Callback(callback) => {
                    // The helper logs what the callback raises; nothing else can fail here.
                    let _ = call_callback.call1(py, (callback, ok, value));
                }
            }
        }
        for (event_loop, list) in per_loop {
            // A closed loop raises; its futures have nobody to wake.
            let _ = event_loop.call_method1(py, "call_soon_threadsafe", (&resolve_batch, list));
        }
    };
    COMPLETIONS.return_receiver(rx);
    result
}
