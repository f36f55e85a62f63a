//! Calling the core from JS methods: a core future as a Promise (core errors become coded JS
//! `Error`s), and `start()` within the addon's runtime.

use std::future::Future;

use napi::bindgen_prelude::*;

use crate::error;
use crate::js_thread::Start;

/// Runs a core future (first polled as `start` says); the promise resolves with
/// `convert(value)` or rejects with the core error as a coded JS `Error`. Both happen on the JS
/// thread (see [`crate::js_thread`]).
pub(crate) fn promise<'env, T, V, F>(
    env: &'env Env,
    start: Start,
    fut: F,
    convert: impl FnOnce(&Env, T) -> Result<V> + Send + 'static,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = rocketmq_ons::Result<T>> + Send + 'static,
{
    crate::js_thread::promise(env, start, fut, convert, |env, e| error::to_js(env, &e))
}

/// `start()` needs the runtime's context: the client's connections and tasks live on it.
pub(crate) fn start_in_runtime(env: &Env, start: impl FnOnce() -> rocketmq_ons::Result<()>) -> Result<()> {
    napi::bindgen_prelude::within_runtime_if_available(start).map_err(|e| error::to_js(env, &e))
}
