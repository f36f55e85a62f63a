//! The core's `tracing` events, in Python's `logging`: a subscriber layer formats each enabled
//! event and queues it (never touching Python on a core thread); the log pump, a daemon thread
//! of the package, hands batches to `logging` under logger names made from the event target
//! (`rocketmq_ons::consumer::engine` -> logger `rocketmq_ons.consumer.engine`).
//!
//! Volume: an event is formatted only when the level is enabled for the `rocketmq_ons` logger
//! (its effective level, re-read by the pump every few hundred ms), and at most [`MAX_QUEUED`]
//! records wait; beyond that they are counted and the count is logged.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::pump::{self, PidChannel};

const MAX_QUEUED: usize = 10_000;

/// The Python level below which events are not even formatted (logging.WARNING until the pump
/// reads the logger's level).
static THRESHOLD: AtomicU32 = AtomicU32::new(30);
static QUEUED: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicUsize = AtomicUsize::new(0);

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

struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={:?}", field.name(), value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={}", field.name(), value);
        }
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
        if QUEUED.fetch_add(1, Ordering::AcqRel) >= MAX_QUEUED {
            QUEUED.fetch_sub(1, Ordering::AcqRel);
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let meta = event.metadata();
        let mut fields = Fields { message: String::new(), rest: String::new() };
        event.record(&mut fields);
        fields.message.push_str(&fields.rest);
        let logger = meta.target().replace("::", ".");
        if !RECORDS.sender().send((python_level(meta.level()), logger, fields.message)) {
            QUEUED.fetch_sub(1, Ordering::AcqRel);
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
        QUEUED.fetch_sub(batch.len(), Ordering::AcqRel);
        let dropped = DROPPED.swap(0, Ordering::Relaxed);
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
