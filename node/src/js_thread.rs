//! The bridge between the addon's runtime and a JS thread: promises for core futures, and work
//! the runtime's threads hand to JS (listener calls, settling promises, dropping references).
//!
//! Every JS thread (the main thread, each worker) has one [`Bridge`], made on first use, with two
//! queues. Outbound, `promise()` hands the future to the bridge's [`Dispatcher`] (ons_binding_support::dispatch), one
//! runtime task that runs all of them, woken at most once per event-loop turn (see `loop_turn`).
//! Inbound, a finished future (or a consumer handing over a message, see [`JsThread::run`]) puts
//! a task in the inbox, and one threadsafe function call drains the whole inbox on the JS
//! thread, in order; futures finishing in one dispatcher poll pass share one such call. So under
//! load many sends or deliveries share one wake-up each way: with a threadsafe function, a
//! `tokio::spawn` and a threadsafe call per promise or delivery, thread hand-offs were most of
//! the cost of a send.
//!
//! Keeping the process alive: the threadsafe function is referenced while at least one promise
//! is pending and unreferenced otherwise, so a pending `send()` keeps Node running exactly as a
//! timer would, and an idle producer never does. The count lives on the JS thread.
//!
//! Teardown: an environment cleanup hook (run before Node finalizes the threadsafe function,
//! since hooks run in reverse order of registration) marks the bridge closed; futures finishing
//! later drop their outcome instead of touching a freed handle, tasks queued later are dropped
//! unrun (a listener's reply dropped counts as ReconsumeLater), and the dispatcher stops once it
//! has nothing left to run.
//!
//! A future that panics rejects its promise (the dispatcher and the other futures go on).
//!
//! The same per-thread state keeps what is made once per JS thread ([`thread_value`]: compiled
//! scripts, classes) and the pool small byte strings are copied into ([`copy_to_js`]).

use parking_lot::RwLock;
use std::cell::RefCell;
use std::ffi::c_void;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use napi::bindgen_prelude::*;
use napi::sys;
pub(crate) use ons_binding_support::dispatch::Start;
use ons_binding_support::dispatch::{Dispatcher, Mailbox};

/// Work for the JS thread; runs in a handle scope of its own.
type JsTask = Box<dyn FnOnce(&Env) + Send>;

/// The raw threadsafe function.
#[derive(Clone, Copy)]
struct RawTsfn(sys::napi_threadsafe_function);
// SAFETY: napi_call_threadsafe_function may be called from any thread; the other calls on this
// handle are made on its JS thread only.
unsafe impl Send for RawTsfn {}
unsafe impl Sync for RawTsfn {}

/// A napi_deferred in transit to its JS thread.
struct Deferred(sys::napi_deferred);
// SAFETY: a napi_deferred is only used on the JS thread that created it (in a JsTask); other
// threads merely carry it.
unsafe impl Send for Deferred {}

impl Deferred {
    /// Taken whole (a closure using the field would capture the bare, non-Send pointer).
    fn into_raw(self) -> sys::napi_deferred {
        self.0
    }
}

/// One JS thread's two queues, shared with the runtime: futures go out through a core
/// [`Dispatcher`], work for JS comes back through the inbox.
struct Bridge {
    dispatcher: Dispatcher,
    /// Work not yet run on the JS thread.
    inbox: Mailbox<JsTask>,
    /// The threadsafe function that drains the inbox; `None` once the environment is being torn
    /// down (cleared under the write lock, so no call is in flight when Node frees it).
    tsfn: RwLock<Option<RawTsfn>>,
}

impl Bridge {
    /// Queues `task` for the JS thread; dropped unrun once the bridge is closed. A future of the
    /// dispatcher finishing leaves the signal to the end of the dispatcher's poll pass.
    fn run_on_js(&self, task: JsTask) {
        if self.is_closed() {
            return;
        }
        self.inbox.push(task);
        if !self.dispatcher.is_polling() {
            self.signal();
        }
    }

    /// Makes sure a drain of the inbox is queued on the JS thread (also the dispatcher's
    /// `after_poll`: one signal for whatever its futures queued in the pass).
    fn signal(&self) {
        if !self.inbox.claim_wake() {
            return; // nothing waits, or a queued drain will take the new tasks too
        }
        let tsfn = self.tsfn.read();
        if let Some(RawTsfn(raw)) = *tsfn {
            // SAFETY: the handle is live while it is in the cell (see `tsfn`). If Node refuses
            // (closing), the tasks stay in the inbox and are dropped with the bridge.
            unsafe {
                sys::napi_call_threadsafe_function(
                    raw,
                    std::ptr::null_mut(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
        }
    }

    fn is_closed(&self) -> bool {
        self.tsfn.read().is_none()
    }
}

/// One JS thread's bridge and the count of its unsettled promises (JS thread only).
struct Channel {
    bridge: Arc<Bridge>,
    raw: RawTsfn,
    pending: usize,
    /// Wakes the dispatcher once per event-loop turn; `None` where libuv is not reachable
    /// (then every first job into an empty outbox wakes it at once).
    turn: Option<loop_turn::LoopTurn>,
    /// Jobs were queued since the dispatcher was last woken.
    wake_at_turn: bool,
    /// Values kept by [`thread_value`], by name.
    kept: Vec<(&'static str, sys::napi_ref)>,
    /// The pool [`copy_to_js`] fills (taken out while it is being used).
    byte_pool: Option<BytePool>,
}

/// A libuv prepare handle on the JS thread's event loop. Its callback runs once per loop turn,
/// just before the loop waits for I/O, so every send() the JS code made during the turn (often
/// dozens, each continuing an `await`) reaches the dispatcher with one wake-up instead of one
/// each: with the JS thread and the runtime sharing a core, a wake-up per send became a context
/// switch per send. libuv is looked up at run time (dlsym), so a host without it (a runtime that
/// implements Node-API without libuv) still works, waking per first job.
mod loop_turn {
    use std::ffi::{c_int, c_void, CStr};

    use napi::sys;

    type PrepareCb = unsafe extern "C" fn(*mut c_void);
    type CloseCb = unsafe extern "C" fn(*mut c_void);

    struct Uv {
        handle_size: unsafe extern "C" fn(c_int) -> usize,
        prepare_init: unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int,
        prepare_start: unsafe extern "C" fn(*mut c_void, PrepareCb) -> c_int,
        prepare_stop: unsafe extern "C" fn(*mut c_void) -> c_int,
        unref: unsafe extern "C" fn(*mut c_void),
        close: unsafe extern "C" fn(*mut c_void, Option<CloseCb>),
    }

    /// `UV_PREPARE` in libuv's `uv_handle_type` (stable across libuv 1.x).
    const UV_PREPARE: c_int = 9;

    /// The process's function `name` as the function pointer type `F`.
    ///
    /// # Safety
    /// `F` must be a function pointer type with that function's C signature.
    unsafe fn function<F: Copy>(name: &CStr) -> Option<F> {
        // SAFETY: a NUL-terminated name; RTLD_DEFAULT searches the process's global symbols.
        let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        if found.is_null() || std::mem::size_of::<F>() != std::mem::size_of::<*mut c_void>() {
            return None;
        }
        // SAFETY: a non-null function address, read as the pointer type the caller vouches for.
        Some(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&found) })
    }

    fn uv() -> Option<&'static Uv> {
        static UV: std::sync::OnceLock<Option<Uv>> = std::sync::OnceLock::new();
        UV.get_or_init(|| {
            // SAFETY: each symbol is libuv's function of that name, whose C signature the
            // field's type spells.
            unsafe {
                Some(Uv {
                    handle_size: function(c"uv_handle_size")?,
                    prepare_init: function(c"uv_prepare_init")?,
                    prepare_start: function(c"uv_prepare_start")?,
                    prepare_stop: function(c"uv_prepare_stop")?,
                    unref: function(c"uv_unref")?,
                    close: function(c"uv_close")?,
                })
            }
        })
        .as_ref()
    }

    /// The started handle (memory from `libc::calloc`, freed by the close callback).
    pub(super) struct LoopTurn(*mut c_void);

    impl LoopTurn {
        /// Starts a prepare handle on `env`'s loop that calls `on_turn`; unreferenced, so it never
        /// keeps the process alive.
        pub(super) fn start(env: sys::napi_env, on_turn: PrepareCb) -> Option<LoopTurn> {
            let uv = uv()?;
            let mut event_loop = std::ptr::null_mut();
            // SAFETY: on the JS thread of `env`.
            if unsafe { sys::napi_get_uv_event_loop(env, &mut event_loop) } != sys::Status::napi_ok {
                return None;
            }
            // SAFETY: libuv calls on the loop's own thread; the handle memory is zeroed, as large
            // as libuv says a prepare handle is, and lives until the close callback frees it.
            unsafe {
                let handle = libc::calloc(1, (uv.handle_size)(UV_PREPARE).max(1));
                if handle.is_null() {
                    return None;
                }
                if (uv.prepare_init)(event_loop.cast(), handle) != 0 {
                    libc::free(handle);
                    return None;
                }
                (uv.unref)(handle);
                if (uv.prepare_start)(handle, on_turn) != 0 {
                    (uv.close)(handle, Some(free_handle));
                    return None;
                }
                Some(LoopTurn(handle))
            }
        }

        /// Stops the handle and lets libuv close it (on the JS thread, at environment teardown).
        pub(super) fn stop(self) {
            if let Some(uv) = uv() {
                // SAFETY: a handle started by `start` on this thread's loop, closed once.
                unsafe {
                    (uv.prepare_stop)(self.0);
                    (uv.close)(self.0, Some(free_handle));
                }
            }
        }
    }

    unsafe extern "C" fn free_handle(handle: *mut c_void) {
        // SAFETY: the calloc'd handle memory, closed: libuv is done with it.
        unsafe { libc::free(handle) };
    }
}

/// The prepare handle's callback: wakes the dispatcher if this turn queued jobs.
unsafe extern "C" fn on_loop_turn(_handle: *mut c_void) {
    let _ = CHANNEL.try_with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else { return };
        if let Some(ch) = slot.as_mut() {
            if std::mem::take(&mut ch.wake_at_turn) {
                ch.bridge.dispatcher.wake();
            }
        }
    });
}

thread_local! {
    static CHANNEL: RefCell<Option<Channel>> = const { RefCell::new(None) };
}

/// Runs `fut`, first polled as `start` says: [`Start::Here`] for requests that are quick to
/// start (a send of a small message), so the request is written at once and a lone
/// `await producer.send()` costs no wake-up of a runtime thread to start it, only the wake-up of
/// the JS thread to settle it. The returned promise resolves with `convert(value)` or rejects
/// with what `reject` makes of the error. Both run on the JS thread.
pub(crate) fn promise<'env, T, E, V, F>(
    env: &'env Env,
    start: Start,
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
    let fut = ons_binding_support::boxed_future(fut);
    let bridge = bridge_for(env)?;
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    // SAFETY: called on the JS thread of `env` with valid out-pointers.
    check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    track_pending(env, 1);
    let deferred = Deferred(deferred);
    let settle_on = bridge.clone();
    let job = async move {
        let outcome = AssertUnwindSafe(fut).catch_unwind().await;
        settle_on.run_on_js(Box::new(move |env: &Env| {
            track_pending(env, -1);
            let deferred = deferred.into_raw();
            let value = match outcome {
                // SAFETY: the env of the JS thread this closure runs on.
                Ok(Ok(value)) => convert(env, value).and_then(|v| unsafe { V::to_napi_value(env.raw(), v) }),
                Ok(Err(e)) => Err(reject(env, e)),
                Err(_) => Err(crate::error::internal(env, "rocketmq-ons: internal error (a task panicked)")),
            };
            // SAFETY: `deferred` was created in this env and is settled once, here.
            unsafe {
                match value {
                    Ok(value) => sys::napi_resolve_deferred(env.raw(), deferred, value),
                    Err(e) => sys::napi_reject_deferred(env.raw(), deferred, JsError::from(e).into_value(env.raw())),
                };
            }
        }));
    };
    if bridge.dispatcher.polls_here(start) {
        napi::bindgen_prelude::within_runtime_if_available(|| bridge.dispatcher.start_here(job));
    } else if bridge.dispatcher.push(job) {
        let deferred_to_turn = CHANNEL.with(|cell| match cell.borrow_mut().as_mut() {
            Some(ch) if ch.turn.is_some() => {
                ch.wake_at_turn = true;
                true
            }
            _ => false,
        });
        if !deferred_to_turn {
            bridge.dispatcher.wake();
        }
    }
    Ok(PromiseRaw::new(env.raw(), promise))
}

/// The bridge of the current JS thread, made (with its dispatcher) on first use.
fn bridge_for(env: &Env) -> Result<Arc<Bridge>> {
    CHANNEL.with(|cell| {
        if let Some(ch) = cell.borrow().as_ref() {
            return Ok(ch.bridge.clone());
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
        let (bridge, run) = Dispatcher::owned_by(
            |dispatcher| Bridge { dispatcher, inbox: Mailbox::default(), tsfn: RwLock::new(Some(RawTsfn(raw))) },
            Bridge::signal,
        );
        let hook_arg = Box::into_raw(Box::new(bridge.clone()));
        // SAFETY: `close_bridge` takes back exactly this box, once.
        check_status!(unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(close_bridge), hook_arg.cast()) })?;
        napi::bindgen_prelude::spawn(run);
        let turn = loop_turn::LoopTurn::start(env.raw(), on_loop_turn);
        *cell.borrow_mut() = Some(Channel {
            bridge: bridge.clone(),
            raw: RawTsfn(raw),
            pending: 0,
            turn,
            wake_at_turn: false,
            kept: Vec::new(),
            byte_pool: None,
        });
        Ok(bridge)
    })
}

/// The function `source` (a JS function expression) evaluates to, compiled once per JS thread
/// and kept under `name`. For objects made once per message: V8 builds an object literal in
/// compiled JS far faster than the property-by-property calls of Node-API do.
pub(crate) fn script_function(env: &Env, name: &'static str, source: &'static str) -> Result<sys::napi_value> {
    thread_value(env, name, |env| {
        let code = env.create_string(source)?;
        let mut value = std::ptr::null_mut();
        // SAFETY: on the JS thread of `env`; the script is a constant of this crate.
        check_status!(unsafe { sys::napi_run_script(env.raw(), code.raw(), &mut value) })?;
        Ok(value)
    })
}

/// Makes this JS thread's channel if it has none yet (the per-message paths call this, and
/// looking is cheaper than taking a reference to the bridge as `bridge_for` does).
fn ensure_channel(env: &Env) -> Result<()> {
    if CHANNEL.with(|cell| cell.borrow().is_none()) {
        bridge_for(env)?;
    }
    Ok(())
}

/// The value kept under `name` on this JS thread, made by `make` on first use and kept as long
/// as the environment is (for values made once per thread: compiled scripts, classes).
pub(crate) fn thread_value(
    env: &Env,
    name: &'static str,
    make: impl FnOnce(&Env) -> Result<sys::napi_value>,
) -> Result<sys::napi_value> {
    ensure_channel(env)?;
    let known = CHANNEL
        .with(|cell| cell.borrow().as_ref().and_then(|ch| ch.kept.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)));
    let mut value = std::ptr::null_mut();
    if let Some(reference) = known {
        // SAFETY: a reference made below on this JS thread, live while the channel is.
        check_status!(unsafe { sys::napi_get_reference_value(env.raw(), reference, &mut value) })?;
        return Ok(value);
    }
    let value = make(env)?;
    let mut reference = std::ptr::null_mut();
    // SAFETY: on the JS thread of `env`, with a value of it; the reference lives as long as the
    // environment (never deleted early).
    check_status!(unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut reference) })?;
    CHANNEL.with(|cell| {
        if let Some(ch) = cell.borrow_mut().as_mut() {
            ch.kept.push((name, reference));
        }
    });
    Ok(value)
}

/// An ArrayBuffer that small byte strings are copied into one after another.
struct BytePool {
    buffer: sys::napi_ref,
    data: *mut u8,
    used: usize,
}

/// Size of one pool, and the largest byte string copied into a pool rather than into an
/// ArrayBuffer of its own: a pool holds at least eight, and a view kept alive keeps at most
/// this much memory alive with it.
const POOL_BYTES: usize = 32 * 1024;
const POOLED_MAX: usize = 4 * 1024;

/// Copies `bytes` into JS memory and returns the ArrayBuffer and the offset they start at (for
/// a `Buffer` view of them, made in JS). Small ones share a pool ArrayBuffer, as Node's own
/// `Buffer` pool does: one allocation per pool instead of a backing store per copy (received
/// message bodies, one per delivery). Offsets are 8-byte aligned, as in Node's pool, so typed
/// array views of the bytes work.
pub(crate) fn copy_to_js(env: &Env, bytes: &[u8]) -> Result<(sys::napi_value, usize)> {
    let raw = env.raw();
    let new_buffer = |size: usize| -> Result<(sys::napi_value, *mut u8)> {
        let (mut buffer, mut data) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: on the JS thread of `env`, with valid out-pointers.
        check_status!(unsafe { sys::napi_create_arraybuffer(raw, size, &mut data, &mut buffer) })?;
        Ok((buffer, data.cast()))
    };
    // SAFETY (both copies): `data` points at an ArrayBuffer of at least `offset + bytes.len()`
    // bytes that is alive (a value in the current handle scope, or referenced by the pool).
    if bytes.len() > POOLED_MAX {
        let (buffer, data) = new_buffer(bytes.len())?;
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
        return Ok((buffer, 0));
    }
    ensure_channel(env)?;
    // Taken out while napi calls run, so nothing they call back into finds the channel borrowed.
    let mut pool = CHANNEL.with(|cell| cell.borrow_mut().as_mut().and_then(|ch| ch.byte_pool.take()));
    let (buffer, offset) = match pool.as_mut() {
        Some(p) if p.used + bytes.len() <= POOL_BYTES => {
            let mut buffer = std::ptr::null_mut();
            // SAFETY: the pool's reference, made below on this JS thread.
            check_status!(unsafe { sys::napi_get_reference_value(raw, p.buffer, &mut buffer) })?;
            (buffer, p.used)
        }
        _ => {
            let (buffer, data) = new_buffer(POOL_BYTES)?;
            let mut reference = std::ptr::null_mut();
            // SAFETY: on the JS thread, with a value of it; the old pool's reference (deleted
            // once, here) only kept the old ArrayBuffer for later copies: views keep it alive.
            unsafe {
                check_status!(sys::napi_create_reference(raw, buffer, 1, &mut reference))?;
                if let Some(old) = pool.take() {
                    sys::napi_delete_reference(raw, old.buffer);
                }
            }
            pool = Some(BytePool { buffer: reference, data, used: 0 });
            (buffer, 0)
        }
    };
    if let Some(p) = pool.as_mut() {
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.data.add(offset), bytes.len()) };
        p.used = (offset + bytes.len()).next_multiple_of(8);
    }
    CHANNEL.with(|cell| {
        if let Some(ch) = cell.borrow_mut().as_mut() {
            ch.byte_pool = pool;
        }
    });
    Ok((buffer, offset))
}

/// Adds `delta` to the pending count; references the threadsafe function while it is above 0.
fn track_pending(env: &Env, delta: isize) {
    CHANNEL.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(ch) = slot.as_mut() else { return };
        let before = ch.pending;
        ch.pending = before.saturating_add_signed(delta);
        // SAFETY: on the JS thread that owns the handle, which is live while the channel is in
        // the thread-local (the cleanup hook removes it).
        unsafe {
            if before == 0 && ch.pending > 0 {
                sys::napi_ref_threadsafe_function(env.raw(), ch.raw.0);
            } else if before > 0 && ch.pending == 0 {
                sys::napi_unref_threadsafe_function(env.raw(), ch.raw.0);
            }
        }
    });
}

/// Runs on the JS thread: runs everything in the inbox (`env` is null while Node tears the
/// threadsafe function down; nothing runs then).
unsafe extern "C" fn call_js(env: sys::napi_env, _js: sys::napi_value, _context: *mut c_void, _data: *mut c_void) {
    if env.is_null() {
        return;
    }
    let Some(bridge) = CHANNEL.with(|cell| cell.borrow().as_ref().map(|ch| ch.bridge.clone())) else { return };
    let batch = bridge.inbox.take();
    let env = Env::from_raw(env);
    for task in batch {
        // One handle scope per task, so a large batch does not pile up handles.
        let mut scope = std::ptr::null_mut();
        // SAFETY: on the JS thread of `env`; the scope is closed before the next one opens.
        unsafe {
            let opened = sys::napi_open_handle_scope(env.raw(), &mut scope) == sys::Status::napi_ok;
            task(&env);
            if opened {
                sys::napi_close_handle_scope(env.raw(), scope);
            }
        }
    }
}

/// A JS thread, as the runtime's threads see it: work can be queued for it from anywhere.
#[derive(Clone)]
pub(crate) struct JsThread(Arc<Bridge>);

impl JsThread {
    /// The JS thread `env` belongs to (call on that thread).
    pub(crate) fn current(env: &Env) -> Result<Self> {
        bridge_for(env).map(JsThread)
    }

    /// Runs `task` on this JS thread, after the work queued before it. Never blocks; once the
    /// thread's environment is going away the task is dropped unrun.
    pub(crate) fn run(&self, task: impl FnOnce(&Env) + Send + 'static) {
        self.0.run_on_js(Box::new(task));
    }

    /// Whether this thread's environment is gone (tasks are dropped unrun).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Whether this is the JS thread calling.
    pub(crate) fn is_current(&self) -> bool {
        CHANNEL
            .try_with(|cell| cell.borrow().as_ref().is_some_and(|ch| Arc::ptr_eq(&ch.bridge, &self.0)))
            .unwrap_or(false)
    }
}

/// A strong reference to a JS value, usable from tasks run on its JS thread and dropped from
/// any thread (the reference is deleted on its JS thread).
pub(crate) struct JsRef {
    raw: sys::napi_ref,
    thread: JsThread,
}

// SAFETY: `raw` is only dereferenced or deleted on its JS thread (`get` is called from tasks run
// there; `drop` queues the deletion there).
unsafe impl Send for JsRef {}
unsafe impl Sync for JsRef {}

impl JsRef {
    /// Call on the JS thread of `env`, with a value of that env.
    pub(crate) fn new(env: &Env, value: sys::napi_value) -> Result<Self> {
        let thread = JsThread::current(env)?;
        let mut raw = std::ptr::null_mut();
        // SAFETY: on the JS thread of `env`, which owns `value`.
        check_status!(unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut raw) })?;
        Ok(JsRef { raw, thread })
    }

    /// The JS thread the value lives on.
    pub(crate) fn thread(&self) -> &JsThread {
        &self.thread
    }

    /// The value; call only from a task run on [`thread`](Self::thread).
    pub(crate) fn get(&self, env: &Env) -> Result<sys::napi_value> {
        let mut value = std::ptr::null_mut();
        // SAFETY: on the reference's JS thread (the caller's contract); the reference is live
        // until `drop` queues its deletion, which runs after any task holding `self`.
        check_status!(unsafe { sys::napi_get_reference_value(env.raw(), self.raw, &mut value) })?;
        Ok(value)
    }
}

/// A napi_ref in transit to its JS thread for deletion.
struct RawRef(sys::napi_ref);
// SAFETY: only deleted, on its JS thread.
unsafe impl Send for RawRef {}

impl RawRef {
    fn into_raw(self) -> sys::napi_ref {
        self.0
    }
}

impl Drop for JsRef {
    fn drop(&mut self) {
        let raw = RawRef(self.raw);
        // Dropped unrun when the environment is going away, which frees every reference anyway.
        self.thread.run(move |env| {
            // SAFETY: on the reference's JS thread; deleted once.
            unsafe { sys::napi_delete_reference(env.raw(), raw.into_raw()) };
        });
    }
}

/// Environment cleanup hook: no threadsafe calls after this; the dispatcher stops when idle.
unsafe extern "C" fn close_bridge(arg: *mut c_void) {
    // SAFETY: the box registered with this hook in `bridge_for`.
    let bridge = unsafe { Box::from_raw(arg.cast::<Arc<Bridge>>()) };
    *bridge.tsfn.write() = None;
    bridge.dispatcher.close();
    if let Ok(Some(channel)) = CHANNEL.try_with(|cell| cell.borrow_mut().take()) {
        if let Some(turn) = channel.turn {
            turn.stop();
        }
    }
}
