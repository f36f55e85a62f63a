//! Calling user JS functions (listeners, transaction executors and checkers) from the core's
//! threads and waiting for their answer without ever blocking the event loop.
//!
//! A call queues the arguments on a threadsafe function; on the JS thread the function runs,
//! and its result (a value, or a promise that later settles) is read into one of the names the
//! caller accepts and sent back through a oneshot channel. A throw, a rejection, or a value that
//! is none of the accepted names answers `None`; the caller maps that to its failure outcome
//! (ReconsumeLater, Suspend, Unknow) and the reason is reported with `process.emitWarning`, so a
//! failing listener is visible without a logger.
//!
//! The threadsafe functions are weak (unref'd): they never keep the process alive on their own.
//! A started consumer keeps it alive through its own [`KeepAlive`] until `shutdown()`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::ValueType;
use rocketmq_ons::log_limit::LogLimiter;
use tokio::sync::oneshot;

/// A user function callable from any thread. `T` is the Rust value queued, `A` the JS arguments
/// it becomes on the JS thread.
/// A user function as a `#[napi]` function receives it.
pub(crate) type JsFunction<'a> = Function<'a, Unknown<'static>, Unknown<'static>>;

/// Argument `what` (e.g. "subscribe: listener") as a function, or a `TypeError` naming it and
/// the type it got. napi-rs takes any value for a `Function` parameter, and a `null` then
/// fails deep inside with an empty message; taking `Unknown` and checking here avoids that.
pub(crate) fn function_arg<'a>(env: &Env, value: Unknown<'a>, what: &str) -> Result<JsFunction<'a>> {
    match value.get_type()? {
        // SAFETY: a function value of this env, as napi-rs itself would wrap it.
        ValueType::Function => unsafe { JsFunction::from_napi_value(env.raw(), value.raw()) },
        other => Err(crate::error::type_error(env, format!("{what} must be a function; got {}", typeof_name(other)))),
    }
}

/// Argument `what` as a string, or a `TypeError` naming it (napi-rs's own error names only
/// the Rust type).
pub(crate) fn string_arg(env: &Env, value: Unknown<'_>, what: &str) -> Result<String> {
    match value.get_type()? {
        // SAFETY: a string value of this env.
        ValueType::String => unsafe { String::from_napi_value(env.raw(), value.raw()) },
        other => Err(crate::error::type_error(env, format!("{what} must be a string; got {}", typeof_name(other)))),
    }
}

/// What JavaScript's `typeof` says (with `null` told apart from objects).
pub(crate) fn typeof_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "boolean",
        ValueType::Number => "number",
        ValueType::String => "string",
        ValueType::Symbol => "symbol",
        ValueType::Object => "object",
        ValueType::Function => "function",
        ValueType::External => "external",
        ValueType::BigInt => "bigint",
        _ => "an unknown type",
    }
}

pub(crate) type JsFn<T, A> = ThreadsafeFunction<T, Unknown<'static>, A, Status, false, true, 0>;

/// Wraps a JS function. `to_args` runs on the JS thread and turns the queued value into the
/// function's arguments.
pub(crate) fn wrap<T, A>(function: &JsFunction<'_>, to_args: impl FnMut(T) -> Result<A> + 'static) -> Result<JsFn<T, A>>
where
    T: 'static,
    A: 'static + JsValuesTupleIntoVec,
{
    let mut to_args = to_args;
    function
        .build_threadsafe_function::<T>()
        .callee_handled::<false>()
        .weak::<true>()
        .build_callback(move |ctx| to_args(ctx.value))
}

/// What a call is for: names the callback in warnings and lists the answers it may give.
pub(crate) struct Expect {
    pub what: &'static str,
    pub accepted: &'static [&'static str],
    /// What a failure is taken as, for the warning text.
    pub on_failure: &'static str,
    /// The fix for a function that returned nothing (an `async` listener without a `return`):
    /// what to return instead, for the warning text.
    pub instead: &'static str,
    /// A failing listener fails for every message: at most one warning per interval for each
    /// kind of callback, the next one saying how many were left out.
    pub limiter: LogLimiter,
}

/// What a call was about, for its warning: `who` follows the callback's name (" of group G"),
/// `what_for` the failure (" for message ID (topic T)"). Made only when a warning is shown.
#[derive(Default)]
pub(crate) struct Subject {
    pub who: String,
    pub what_for: String,
}

/// Calls `f` with `value`. The receiver yields the accepted name the function answered, or
/// `None` when it threw, rejected, answered something else, or could not be called.
pub(crate) fn call<T: 'static, A: 'static + JsValuesTupleIntoVec>(
    f: &JsFn<T, A>,
    value: T,
    expect: &'static Expect,
) -> oneshot::Receiver<Option<&'static str>> {
    let (tx, rx) = oneshot::channel();
    let answer: Answer = Box::new(move |answer| {
        let _ = tx.send(answer);
    });
    // A call that cannot be made (the environment is shutting down) drops the closure and with
    // it `tx`: the receiver reads as failed.
    let _ = f.call_with_return_value(value, ThreadsafeFunctionCallMode::NonBlocking, move |ret, env| {
        read_answer(&env, ret, answer, expect, Subject::default);
        Ok(())
    });
    rx
}

/// Blocking form of [`call`] for the core's listener threads (never a runtime worker).
pub(crate) fn call_blocking<T: 'static, A: 'static + JsValuesTupleIntoVec>(
    f: &JsFn<T, A>,
    value: T,
    expect: &'static Expect,
) -> Option<&'static str> {
    call(f, value, expect).blocking_recv().ok().flatten()
}

/// Where the answer of one call goes.
pub(crate) type Answer = Box<dyn FnOnce(Option<&'static str>) + Send>;

/// Why a call counts as failed.
enum Failure {
    /// It returned (or resolved) `undefined` or `null`: counted as failed, as the ONS Java SDK
    /// counts a listener returning null; the warning names the fix.
    Nothing(&'static str),
    Other(String),
}

/// Runs on the JS thread with what a user function returned (or threw): hands `answer` the
/// accepted name it answered, now or when its promise settles, or `None` (with a warning about
/// `subject`, made only then).
pub(crate) fn read_answer<S>(
    env: &Env,
    ret: Result<Unknown<'static>>,
    answer: Answer,
    expect: &'static Expect,
    subject: S,
) where
    S: FnOnce() -> Subject + 'static,
{
    let value = match ret {
        Ok(value) => value,
        Err(e) => {
            warn(env, expect, subject, Failure::Other(format!("threw: {}", e.reason)));
            answer(None);
            return;
        }
    };
    if !matches!(value.is_promise(), Ok(true)) {
        answer(accept(env, value, expect).map_err(|failure| warn(env, expect, subject, failure)).ok());
        return;
    }
    // The promise settles later; whichever handler runs first answers.
    let reply = Rc::new(Cell::new(Some((answer, subject))));
    let on_reject = reply.clone();
    // SAFETY: `value` is a promise of this env, checked above.
    let promise = unsafe { PromiseRaw::<Unknown<'static>>::from_napi_value(env.raw(), value.raw()) };
    let attached = promise.and_then(|p| {
        p.then(move |ctx| {
            if let Some((answer, subject)) = reply.take() {
                answer(accept(&ctx.env, ctx.value, expect).map_err(|f| warn(&ctx.env, expect, subject, f)).ok());
            }
            Ok(())
        })?
        .catch(move |ctx: CallbackContext<Unknown<'static>>| {
            if let Some((answer, subject)) = on_reject.take() {
                let reason = Error::from_unknown_without_coercion(ctx.value).reason;
                warn(&ctx.env, expect, subject, Failure::Other(format!("rejected: {reason}")));
                answer(None);
            }
            Ok(())
        })
        .map(|_| ())
    });
    if let Err(e) = attached {
        let detail = format!("returned a promise that could not be awaited: {}", e.reason);
        warn(env, expect, Subject::default, Failure::Other(detail));
    }
}

/// Reads a returned value as one of the accepted names.
fn accept(env: &Env, value: Unknown<'_>, expect: &'static Expect) -> std::result::Result<&'static str, Failure> {
    // The common case, once per message: a short string read into a stack buffer.
    let mut short = [0u8; 32];
    let mut len = 0usize;
    if matches!(value.get_type(), Ok(ValueType::String)) {
        // SAFETY: a string value of this env; the buffer and its length are ours.
        let status = unsafe {
            napi::sys::napi_get_value_string_utf8(
                env.raw(),
                value.raw(),
                short.as_mut_ptr().cast(),
                short.len(),
                &mut len,
            )
        };
        if status == napi::sys::Status::napi_ok && len < short.len() - 1 {
            let text = &short[..len];
            if let Some(found) = expect.accepted.iter().copied().find(|a| a.as_bytes() == text) {
                return Ok(found);
            }
        }
    }
    let text = match value.get_type() {
        Ok(ValueType::String) => value.coerce_to_string().and_then(|s| s.into_utf8()).and_then(|s| s.into_owned()).ok(),
        Ok(ValueType::Undefined) => return Err(Failure::Nothing("undefined")),
        Ok(ValueType::Null) => return Err(Failure::Nothing("null")),
        _ => None,
    };
    if let Some(found) = text.as_deref().and_then(|t| expect.accepted.iter().copied().find(|a| *a == t)) {
        return Ok(found);
    }
    let shown = match (&text, value.get_type()) {
        (Some(t), _) => format!("{t:?}"),
        (None, Ok(t)) => t.to_string(),
        (None, Err(_)) => "an unreadable value".to_owned(),
    };
    Err(Failure::Other(format!("returned {shown}; expected one of {}", expect.accepted.join(", "))))
}

/// `process.emitWarning(...)`: the only channel a Node user is sure to see. At most one per
/// interval for each kind of callback; the next one says how many were left out.
fn warn(env: &Env, expect: &Expect, subject: impl FnOnce() -> Subject, failure: Failure) {
    let Some(left_out) = expect.limiter.admit(Instant::now()) else { return };
    let Subject { who, what_for } = subject();
    let what = expect.what;
    let mut text = match failure {
        Failure::Nothing(nothing) => {
            format!("{what}{who} returned {nothing}{what_for}: counted as {}; {}", expect.on_failure, expect.instead)
        }
        Failure::Other(detail) => format!("{what}{who} {detail}{what_for}: counted as {}", expect.on_failure),
    };
    if left_out > 0 {
        text.push_str(&format!(" ({left_out} more warnings of failing {what}s left out since the previous one)"));
    }
    let emit = || -> Result<()> {
        let process: Object = env.get_global()?.get_named_property("process")?;
        let emit_warning: Function<FnArgs<(String, String)>, Unknown> = process.get_named_property("emitWarning")?;
        emit_warning.apply(process, FnArgs::from((text, "RocketMQWarning".to_owned())))?;
        Ok(())
    };
    // A warning that cannot be shown must not turn into a second failure.
    let _ = emit();
}

/// Keeps the event loop alive while a consumer runs: a referenced threadsafe function that is
/// never called. Dropping it (at `shutdown()`) releases it.
pub(crate) struct KeepAlive(#[allow(dead_code)] Box<dyn std::any::Any + Send>);

impl KeepAlive {
    pub(crate) fn new(env: &Env) -> Result<Self> {
        let noop: Function<'_, (), ()> = env.create_function_from_closure("rocketmqKeepAlive", |_| Ok(()))?;
        let tsfn = noop.build_threadsafe_function::<()>().callee_handled::<false>().weak::<false>().build()?;
        Ok(KeepAlive(Box::new(tsfn)))
    }
}
