//! Promises for core futures, settled through one threadsafe function per JS thread.
//!
//! napi-rs's own future-to-promise bridge creates (and later tears down) a threadsafe function
//! for every promise, which made a `send()` cost several times the core's CPU per message. Here
//! every JS thread (the main thread, each worker) has one threadsafe function, created on first
//! use: a finished future queues its outcome on it, and Node drains the queue on the JS thread in
//! batches, resolving or rejecting each promise there.
//!
//! Keeping the process alive: the threadsafe function is referenced while at least one promise
//! is pending and unreferenced otherwise, so a pending `send()` keeps Node running exactly as a
//! timer would, and an idle producer never does. The count lives on the JS thread.
//!
//! Teardown: an environment cleanup hook (run before Node finalizes the threadsafe function,
//! since hooks run in reverse order of registration) marks the channel closed; futures finishing
//! later drop their outcome instead of touching a freed handle.

use std::cell::RefCell;
use std::ffi::c_void;
use std::future::Future;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::sys;

type Resolve = Box<dyn FnOnce(&Env) -> Result<sys::napi_value> + Send>;

/// What a finished future sends to the JS thread.
struct Settlement {
    deferred: sys::napi_deferred,
    resolve: Resolve,
}

/// The raw threadsafe function, `None` once its environment is being torn down.
#[derive(Clone, Copy)]
struct RawTsfn(sys::napi_threadsafe_function);
// SAFETY: napi_call_threadsafe_function may be called from any thread; the other calls on this
// handle are made on its JS thread only.
unsafe impl Send for RawTsfn {}

// SAFETY: a napi_deferred is only used on the JS thread that created it (in `call_js`); other
// threads merely carry it.
unsafe impl Send for Settlement {}

/// A napi_deferred in transit to its JS thread.
struct Deferred(sys::napi_deferred);
// SAFETY: as for Settlement.
unsafe impl Send for Deferred {}

impl Deferred {
    /// Taken whole (a closure using the field would capture the bare, non-Send pointer).
    fn into_raw(self) -> sys::napi_deferred {
        self.0
    }
}

/// One JS thread's channel.
struct Channel {
    tsfn: Arc<Mutex<Option<RawTsfn>>>,
    /// Promises created and not settled yet (JS thread only).
    pending: usize,
}

thread_local! {
    static CHANNEL: RefCell<Option<Channel>> = const { RefCell::new(None) };
}

/// Runs `fut` on the runtime; the returned promise resolves with `convert(value)` or rejects
/// with what `reject` makes of the error. Both run on the JS thread.
pub(crate) fn promise<'env, T, E, V, F>(
    env: &'env Env,
    fut: F,
    convert: impl FnOnce(&Env, T) -> Result<V> + Send + 'static,
    reject: impl FnOnce(&Env, E) -> Error + Send + 'static,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    E: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
{
    let tsfn = channel_for(env)?;
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    // SAFETY: called on the JS thread of `env` with valid out-pointers.
    check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    track_pending(env, 1);
    let deferred = Deferred(deferred);
    napi::bindgen_prelude::spawn(async move {
        let outcome = fut.await;
        let resolve: Resolve = Box::new(move |env: &Env| match outcome {
            // SAFETY: the env of the JS thread this closure runs on.
            Ok(value) => unsafe { V::to_napi_value(env.raw(), convert(env, value)?) },
            Err(e) => Err(reject(env, e)),
        });
        let data = Box::into_raw(Box::new(Settlement { deferred: deferred.into_raw(), resolve }));
        let guard = tsfn.lock().unwrap_or_else(|p| p.into_inner());
        let queued = match *guard {
            // SAFETY: the handle is live while it is in the cell (cleared by the cleanup hook
            // under this lock before Node finalizes it).
            Some(RawTsfn(raw)) => unsafe {
                sys::napi_call_threadsafe_function(raw, data.cast(), sys::ThreadsafeFunctionCallMode::nonblocking)
            },
            None => sys::Status::napi_closing,
        };
        drop(guard);
        if queued != sys::Status::napi_ok {
            // The environment is going away; nobody can observe the promise any more.
            // SAFETY: not queued, so still ours.
            drop(unsafe { Box::from_raw(data) });
        }
    });
    Ok(PromiseRaw::new(env.raw(), promise))
}

/// The threadsafe function of the current JS thread, created on first use.
fn channel_for(env: &Env) -> Result<Arc<Mutex<Option<RawTsfn>>>> {
    CHANNEL.with(|cell| {
        if let Some(ch) = cell.borrow().as_ref() {
            return Ok(ch.tsfn.clone());
        }
        let name = env.create_string("rocketmqSettle")?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: on the JS thread; no JS function (call_js does the work), an unbounded queue,
        // one owner that never releases it (the environment's teardown finalizes it).
        check_status!(unsafe {
            sys::napi_create_threadsafe_function(
                env.raw(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                name.raw(),
                0,
                1,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
                Some(call_js),
                &mut raw,
            )
        })?;
        // SAFETY: the handle was just created on this thread.
        check_status!(unsafe { sys::napi_unref_threadsafe_function(env.raw(), raw) })?;
        let tsfn = Arc::new(Mutex::new(Some(RawTsfn(raw))));
        let hook_arg = Box::into_raw(Box::new(tsfn.clone()));
        // SAFETY: `close_channel` takes back exactly this box, once.
        check_status!(unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(close_channel), hook_arg.cast()) })?;
        *cell.borrow_mut() = Some(Channel { tsfn: tsfn.clone(), pending: 0 });
        Ok(tsfn)
    })
}

/// Adds `delta` to the pending count; references the threadsafe function while it is above 0.
fn track_pending(env: &Env, delta: isize) {
    CHANNEL.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(ch) = slot.as_mut() else { return };
        let before = ch.pending;
        ch.pending = before.saturating_add_signed(delta);
        let Some(RawTsfn(raw)) = *ch.tsfn.lock().unwrap_or_else(|p| p.into_inner()) else { return };
        // SAFETY: on the JS thread that owns the live handle.
        unsafe {
            if before == 0 && ch.pending > 0 {
                sys::napi_ref_threadsafe_function(env.raw(), raw);
            } else if before > 0 && ch.pending == 0 {
                sys::napi_unref_threadsafe_function(env.raw(), raw);
            }
        }
    });
}

/// Runs on the JS thread for each queued settlement (`env` is null while Node tears the
/// threadsafe function down; the settlement is then only freed).
unsafe extern "C" fn call_js(env: sys::napi_env, _js: sys::napi_value, _context: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is the box `promise` queued; Node hands each one over exactly once.
    let settlement = unsafe { Box::from_raw(data.cast::<Settlement>()) };
    if env.is_null() {
        return;
    }
    let env = Env::from_raw(env);
    track_pending(&env, -1);
    let Settlement { deferred, resolve } = *settlement;
    // SAFETY: `deferred` was created in this env and is settled once, here.
    unsafe {
        match resolve(&env) {
            Ok(value) => sys::napi_resolve_deferred(env.raw(), deferred, value),
            Err(e) => sys::napi_reject_deferred(env.raw(), deferred, JsError::from(e).into_value(env.raw())),
        };
    }
}

/// Environment cleanup hook: no queueing after this.
unsafe extern "C" fn close_channel(arg: *mut c_void) {
    // SAFETY: the box registered with this hook in `channel_for`.
    let tsfn = unsafe { Box::from_raw(arg.cast::<Arc<Mutex<Option<RawTsfn>>>>()) };
    *tsfn.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let _ = CHANNEL.try_with(|cell| cell.borrow_mut().take());
}
