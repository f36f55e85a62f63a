//! The core's log in Node: WARN and ERROR records become `process.emitWarning(message,
//! { type: 'RocketMQWarning', code: target })` by default, so a consumer whose topic has no
//! route says so without any logger set up; `setLogHandler(handler, minLevel)` hands every
//! record at `minLevel` and above to a JS function instead.
//!
//! The subscriber layer runs on the core's threads: it only formats a record
//! (`log_forward::format_event`) and queues it, bounded by `log_forward::Budget` (what does not
//! fit is counted and reported later as a record of its own), as a task for a JS thread through
//! [`JsThread`], whose threadsafe function is unreferenced: records never keep the process
//! alive, and never block a core thread. Records go to the handler's JS thread when a handler
//! is set, else to the first JS thread that made a client (whose `process` is the one to warn
//! on); once that thread's environment is gone, the next one to make a client takes over.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use ons_binding_support::log_forward::{format_event, Budget, LogRecord};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::js_thread::{JsRef, JsThread};

/// The JS names of the levels, most severe first; a level's rank is its index plus one.
const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];
const WARN: u8 = 2;

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// The least severe rank queued: WARN for the default, the handler's `minLevel` with one.
static MIN_RANK: AtomicU8 = AtomicU8::new(WARN);
static BUDGET: Budget = Budget::new();

struct Handler {
    function: JsRef,
    min_rank: u8,
}

/// The handler set by `setLogHandler`, if any.
static HANDLER: Mutex<Option<Handler>> = Mutex::new(None);
/// The JS thread that warns when no handler is set.
static WARN_ON: Mutex<Option<JsThread>> = Mutex::new(None);

/// Installs the layer as the process's subscriber (at module load; an embedding Rust program's
/// own subscriber, set first, wins).
pub(crate) fn install() {
    let filter = filter_fn(|meta| meta.is_event() && rank(meta.level()) <= MIN_RANK.load(Ordering::Relaxed));
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ToJs.with_filter(filter)));
}

/// Makes the JS thread of `env` the one that warns, unless a live one does already (called by
/// every client's creation).
pub(crate) fn attach(env: &Env) -> Result<()> {
    let mut warn_on = WARN_ON.lock();
    if warn_on.as_ref().is_none_or(JsThread::is_closed) {
        *warn_on = Some(JsThread::current(env)?);
    }
    Ok(())
}

/// A place in the queue, given back when the task runs or is dropped unrun.
struct Queued;

impl Drop for Queued {
    fn drop(&mut self) {
        BUDGET.release(1);
    }
}

struct ToJs;

impl<S: Subscriber> Layer<S> for ToJs {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let thread = match HANDLER.lock().as_ref() {
            Some(h) => Some(h.function.thread().clone()),
            None => WARN_ON.lock().clone(),
        };
        let Some(thread) = thread else { return };
        if !BUDGET.admit() {
            return;
        }
        let queued = Queued;
        let record = format_event(event);
        thread.run(move |env| {
            drop(queued);
            deliver(env, &record);
            let dropped = BUDGET.take_dropped();
            if dropped > 0 {
                deliver(env, &Budget::dropped_record(dropped));
            }
        });
    }
}

/// On a JS thread: the record to the handler when one is set on this thread, else (WARN and
/// ERROR only) as a process warning. A JS exception is not allowed to escape into the event
/// loop from here; it is said as a warning instead.
fn deliver(env: &Env, record: &LogRecord) {
    let rank = rank(&record.level);
    // The reference is read only on its own thread (the handler may live on another one).
    let handler =
        HANDLER.lock().as_ref().filter(|h| h.function.thread().is_current()).map(|h| (h.min_rank, h.function.get(env)));
    let delivered = match handler {
        Some((min_rank, function)) => {
            if rank > min_rank {
                return;
            }
            function.and_then(|f| call_handler(env, f, record))
        }
        // Queued for a handler that has been removed or replaced by one on another thread.
        _ if rank > WARN => return,
        _ => emit_warning(env, &record.message, record.target),
    };
    if let Err(e) = delivered {
        clear_exception(env);
        let _ = emit_warning(env, &format!("the rocketmq-ons log handler failed: {e}"), "rocketmq_ons");
    }
}

fn call_handler(env: &Env, function: sys::napi_value, record: &LogRecord) -> Result<()> {
    // SAFETY: a function value of this env (a JsRef read on its own thread).
    let function: Function<FnArgs<(&str, &str, &str)>, Unknown> =
        unsafe { Function::from_napi_value(env.raw(), function)? };
    function.call(FnArgs::from((
        LEVELS[usize::from(rank(&record.level)) - 1],
        record.target,
        record.message.as_str(),
    )))?;
    Ok(())
}

fn emit_warning(env: &Env, message: &str, code: &str) -> Result<()> {
    let process: Object = env.get_global()?.get_named_property("process")?;
    let emit: Function<FnArgs<(&str, Object)>, Unknown> = process.get_named_property("emitWarning")?;
    let mut options = Object::new(env)?;
    options.set_named_property("type", "RocketMQWarning")?;
    options.set_named_property("code", code)?;
    emit.apply(process, FnArgs::from((message, options)))?;
    Ok(())
}

fn clear_exception(env: &Env) {
    let mut ignored = std::ptr::null_mut();
    // SAFETY: on the JS thread of `env`; takes the pending exception, if any.
    unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut ignored) };
}

/// Hands the library's log records at `minLevel` (default `'warn'`) and above to `handler`
/// (level, target module, message with ` key=value` fields) on this JS thread, instead of the
/// default `process.emitWarning(message, { type: 'RocketMQWarning', code: target })` of WARN
/// and ERROR records. `null` restores the default. Records wait in a queue of at most 10000;
/// beyond that they are counted and the count arrives later as a `'warn'` record. A handler
/// that throws is reported with `process.emitWarning`.
#[napi(
    ts_args_type = "handler: ((level: 'error' | 'warn' | 'info' | 'debug' | 'trace', target: string, message: string) => void) | null, minLevel?: 'error' | 'warn' | 'info' | 'debug' | 'trace'"
)]
pub fn set_log_handler(env: &Env, handler: Unknown<'_>, min_level: Option<String>) -> Result<()> {
    let min_rank = match min_level.as_deref() {
        None => WARN,
        Some(name) => match LEVELS.iter().position(|l| *l == name) {
            Some(i) => i as u8 + 1,
            None => {
                return Err(crate::error::type_error(
                    env,
                    format!("setLogHandler: minLevel must be one of {}; got {name:?}", LEVELS.join(", ")),
                ))
            }
        },
    };
    let new = match handler.get_type()? {
        napi::ValueType::Null | napi::ValueType::Undefined => None,
        _ => {
            let function = crate::js_call::function_arg(env, handler, "setLogHandler: handler")?;
            Some(Handler { function: JsRef::new(env, function.raw())?, min_rank })
        }
    };
    MIN_RANK.store(new.as_ref().map_or(WARN, |h| h.min_rank), Ordering::Relaxed);
    *HANDLER.lock() = new;
    attach(env)
}
