//! The core's `tracing` events, in Python's `logging`: a subscriber layer formats each enabled
//! event and queues it (never touching Python on a core thread); the log pump, a daemon thread
//! of the package, hands batches to `logging` under logger names made from the event target
//! (`rocketmq_ons::consumer::engine` -> logger `rocketmq_ons.consumer.engine`).
//!
//! Volume: an event is formatted only when the level is enabled for the `rocketmq_ons` logger
//! (its effective level, re-read by the pump every few hundred ms), and at most
//! `log_forward::MAX_QUEUED` records wait; beyond that they are counted and the count is logged.
//! The text of a record and that bound are shared with the other bindings (`log_forward`).

use std::sync::atomic::{AtomicU32, Ordering};

use ons_binding_support::log_forward::{format_event, Budget};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::pump::{self, PidChannel};

/// The Python level below which events are not even formatted (logging.WARNING until the pump
/// reads the logger's level).
static THRESHOLD: AtomicU32 = AtomicU32::new(30);
static BUDGET: Budget = Budget::new();

/// (Python level, logger name, message)
type Record = (u32, String, String);

pub(crate) static RECORDS: PidChannel<Record> = PidChannel::new();

fn python_level(level: &Level) -> u32 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

struct PythonLogging;

impl<S: Subscriber> Layer<S> for PythonLogging {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        // The threshold follows the Python logger, so no callsite is decided once for all.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.is_event() && python_level(metadata.level()) >= THRESHOLD.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !BUDGET.admit() {
            return;
        }
        let record = format_event(event);
        let logger = record.target.replace("::", ".");
        if !RECORDS.sender().send((python_level(&record.level), logger, record.message)) {
            BUDGET.release(1);
        }
    }
}

/// Installs the layer as the process's tracing subscriber, unless one is already set (an
/// embedding Rust program's own wins).
pub(crate) fn install() {
    let _ = tracing_subscriber::registry().with(PythonLogging).try_init();
}

/// The log pump: runs on a daemon thread of the package until the exit hook stops it, after
/// emitting the records queued before. `emit` is `_callbacks.emit_logs`, looked up by the thread
/// that starts the pumps.
#[pyfunction]
#[pyo3(name = "_log_pump")]
pub(crate) fn log_pump(py: Python<'_>, emit: Py<PyAny>) -> PyResult<()> {
    let Some(rx) = RECORDS.take_receiver() else {
        return Err(PyRuntimeError::new_err("the log pump is already running"));
    };
    let result = loop {
        let batch = py.detach(|| rx.recv_batch(Some(pump::LEVEL_POLL)));
        BUDGET.release(batch.len());
        let dropped = BUDGET.take_dropped();
        // emit_logs returns the `rocketmq_ons` logger's effective level, so a level set by the
        // application takes effect within one poll.
        match emit.call1(py, (batch, dropped)).and_then(|l| l.extract::<u32>(py)) {
            Ok(level) => THRESHOLD.store(level, Ordering::Relaxed),
            Err(e) => break Err(e),
        }
        if pump::stopping() {
            break Ok(());
        }
    };
    RECORDS.return_receiver(rx);
    result
}
