//! Where the library's log goes: by default WARN and ERROR lines on stderr (the env var
//! `ONS_LOG`, a tracing filter such as `debug` or `off`, changes that, as for the `ons` CLI);
//! with a handler set by `ons_set_log_handler`, every record at or above its level goes to the
//! handler instead.
//!
//! The core logs from its network threads, which must never wait for user code: the layer on
//! those threads only formats a record and queues it (bounded by `log_forward::Budget`; what
//! does not fit is counted and reported as a record of its own), and one thread of this module,
//! `ons-log`, calls the handler. The stderr default is written where the event
//! happens, as the CLI's is: a line write, no user code.
//!
//! The subscriber is installed on first use of the library (the runtime's creation) or of
//! `ons_set_log_handler`, unless the process already has one (a Rust program linking the C
//! library keeps its own).

use parking_lot::{Mutex, RwLock};
use std::ffi::{c_char, c_void, CString};
use std::io::Write as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Once, OnceLock};

use ons_binding_support::log_forward::{format_event, Budget, LogRecord};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{filter_fn, EnvFilter, FilterExt};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::error::{guard, invalid_argument};
use crate::runtime::UserData;

/// Errors only.
pub const ONS_LOG_ERROR: i32 = 1;
/// Warnings and errors (what the default writes to stderr).
pub const ONS_LOG_WARN: i32 = 2;
/// Also informational records (connections, rebalance results, recoveries).
pub const ONS_LOG_INFO: i32 = 3;
/// Also debugging records.
pub const ONS_LOG_DEBUG: i32 = 4;
/// Everything.
pub const ONS_LOG_TRACE: i32 = 5;

/// Receives one log record: `level` is an ONS_LOG_* value, `target` the library module that
/// logged it (such as "rocketmq_ons::consumer::engine"), `message` the text followed by its
/// fields as ` key=value`; both strings are NUL-terminated UTF-8, valid only during the call.
/// Called on the library's log thread, one record at a time, in order; it may call any
/// function of this API. Records never contain secrets (AccessKey values are never logged).
pub type OnsLogHandler =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, target: *const c_char, message: *const c_char)>;

fn ons_level(level: Level) -> i32 {
    match level {
        Level::ERROR => ONS_LOG_ERROR,
        Level::WARN => ONS_LOG_WARN,
        Level::INFO => ONS_LOG_INFO,
        Level::DEBUG => ONS_LOG_DEBUG,
        Level::TRACE => ONS_LOG_TRACE,
    }
}

#[derive(Clone, Copy)]
struct Handler {
    call: unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const c_char),
    user_data: UserData,
    min_level: i32,
}

/// The handler set, if any. Read by the layer (for its level) and the log thread.
static HANDLER: RwLock<Option<Handler>> = RwLock::new(None);
/// The handler's `min_level`, 0 without one: what the layers' filters look at, per event.
static HANDLER_LEVEL: AtomicI32 = AtomicI32::new(0);
/// Held by the log thread while it calls a handler, so that setting another one can wait for
/// a call in progress.
static CALLING: Mutex<()> = Mutex::new(());
static BUDGET: Budget = Budget::new();
static QUEUE: OnceLock<Sender<LogRecord>> = OnceLock::new();
static INSTALL: Once = Once::new();

thread_local! {
    static ON_LOG_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Queues records for the handler.
struct ToHandler;

impl<S: Subscriber> Layer<S> for ToHandler {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !BUDGET.admit() {
            return;
        }
        let queued = QUEUE.get().is_some_and(|q| q.send(format_event(event)).is_ok());
        if !queued {
            BUDGET.release(1);
        }
    }
}

/// The default: one line per record on stderr.
struct ToStderr;

impl<S: Subscriber> Layer<S> for ToStderr {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        write_stderr(&format_event(event));
    }
}

fn write_stderr(record: &LogRecord) {
    let _ =
        writeln!(std::io::stderr().lock(), "rocketmq_ons {:>5} {}: {}", record.level, record.target, record.message);
}

/// The default filter: `ONS_LOG` when set and valid (a bad value is said on stderr), else WARN.
fn default_filter() -> EnvFilter {
    match std::env::var("ONS_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives).unwrap_or_else(|e| {
            eprintln!("rocketmq_ons: ONS_LOG={directives:?} is not a log filter ({e}); logging warnings only");
            EnvFilter::new("warn")
        }),
        _ => EnvFilter::new("warn"),
    }
}

/// Installs the library's subscriber and starts the log thread, once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let (tx, rx) = mpsc::channel();
        let _ = QUEUE.set(tx);
        let spawned = std::thread::Builder::new().name("ons-log".into()).spawn(move || deliver(rx));
        if let Err(e) = spawned {
            eprintln!("rocketmq_ons: could not start the log thread ({e}); log handlers will not be called");
        }
        // Both filters are decided per event (a handler may be set or cleared at any time);
        // neither caches an interest per callsite that a later change would have to undo.
        let stderr_filter = default_filter().and(filter_fn(|_| HANDLER_LEVEL.load(Ordering::Acquire) == 0));
        let handler_filter =
            filter_fn(|meta| meta.is_event() && ons_level(*meta.level()) <= HANDLER_LEVEL.load(Ordering::Acquire));
        let subscriber = tracing_subscriber::registry()
            .with(ToStderr.with_filter(stderr_filter))
            .with(ToHandler.with_filter(handler_filter));
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// The log thread: calls the handler current at delivery time with each record (records queued
/// for a handler that has been removed since are dropped with it), and reports drops.
fn deliver(rx: Receiver<LogRecord>) {
    ON_LOG_THREAD.with(|on| on.set(true));
    while let Ok(record) = rx.recv() {
        BUDGET.release(1);
        call_handler(&record);
        let dropped = BUDGET.take_dropped();
        if dropped > 0 {
            call_handler(&Budget::dropped_record(dropped));
        }
    }
}

fn call_handler(record: &LogRecord) {
    let _calling = CALLING.lock();
    let Some(handler) = *HANDLER.read() else { return };
    if ons_level(record.level) > handler.min_level || crate::runtime::exiting() {
        return;
    }
    // Interior NULs cannot cross as C strings; the core never logs one, but a field could.
    let text = |s: &str| CString::new(s.replace('\0', "\\0")).unwrap_or_default();
    let (target, message) = (text(record.target), text(&record.message));
    // A panic cannot come out of C code, and the handler's own failures are its business.
    // SAFETY: the header's contract for the handler and its user_data.
    unsafe { (handler.call)(handler.user_data.ptr(), ons_level(record.level), target.as_ptr(), message.as_ptr()) };
}

/// Sends the library's log records at `min_level` (an ONS_LOG_* value) and above to `handler`,
/// on a thread of the library's own (never a network thread), in order. Records wait in a
/// queue of at most 10000; beyond that they are dropped and counted, and the count arrives
/// later as a WARN record. When this returns, a previous handler is no longer being called and
/// will not be (unless called from inside that handler, which it does not wait for).
///
/// A NULL `handler` restores the default: records at WARN and above as lines on stderr, or
/// what the environment variable ONS_LOG says (a filter in the syntax of Rust's tracing
/// EnvFilter, such as `debug`, `off` or `rocketmq_ons::consumer=info`); `min_level` is then
/// ignored. Records still queued for a removed handler are dropped.
///
/// `user_data` must stay valid until the handler has been replaced. Fails with
/// ONS_ERR_INVALID_ARGUMENT for a `min_level` outside ONS_LOG_ERROR..ONS_LOG_TRACE.
#[no_mangle]
pub unsafe extern "C" fn ons_set_log_handler(handler: OnsLogHandler, user_data: *mut c_void, min_level: i32) -> i32 {
    guard("ons_set_log_handler", || {
        let new = match handler {
            Some(call) => {
                if !(ONS_LOG_ERROR..=ONS_LOG_TRACE).contains(&min_level) {
                    return Err(invalid_argument(format!(
                        "min_level {min_level} is not an ONS_LOG_* level (ONS_LOG_ERROR..ONS_LOG_TRACE)"
                    )));
                }
                Some(Handler { call, user_data: UserData(user_data), min_level })
            }
            None => None,
        };
        install();
        *HANDLER.write() = new;
        HANDLER_LEVEL.store(new.map_or(0, |h| h.min_level), Ordering::Release);
        if !ON_LOG_THREAD.with(|on| on.get()) {
            // A call that read the previous handler holds CALLING until it returns.
            drop(CALLING.lock());
        }
        Ok(())
    })
}
