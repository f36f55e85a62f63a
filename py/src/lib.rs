//! `rocketmq_ons._native`: the Python binding of the `rocketmq-ons` core. It translates types
//! and threads only; every RocketMQ behaviour lives in the core. The public API is the
//! `rocketmq_ons` package (python/), which re-exports these classes and adds the pure-Python
//! parts (enums, factory, pump threads, exit hook).
//!
//! Threads: sync calls release the GIL while the runtime works; runtime workers never take
//! the GIL. Python is entered only from the caller's thread, an event loop draining its bridge
//! (`completion`), the core's blocking threads (listeners, transaction callbacks, each keeping
//! its Python thread state) and the package's two pump threads.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod admin_types;
mod client;
mod completion;
mod consumer;
mod errors;
mod http;
mod logging;
mod message;
mod producer;
mod props;
mod pull_consumer;
mod pump;
mod runtime;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The wheel's version is the crate's (maturin takes it from Cargo.toml).
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    props::register(m)?;
    m.add_class::<message::PyMessage>()?;
    m.add_class::<message::PySendResult>()?;
    m.add_class::<message::PyConsumeContext>()?;
    m.add_class::<producer::PyProducer>()?;
    m.add_class::<producer::PyOrderProducer>()?;
    m.add_class::<producer::PyTransactionProducer>()?;
    m.add_class::<consumer::PyConsumer>()?;
    m.add_class::<consumer::PyOrderConsumer>()?;
    m.add_class::<consumer::PyBatchConsumer>()?;
    m.add_class::<consumer::PyMessageSelector>()?;
    m.add_class::<pull_consumer::PyPullConsumer>()?;
    m.add_class::<client::PyTraceCounts>()?;
    m.add_class::<admin::PyAdmin>()?;
    admin_types::register(m)?;
    m.add_class::<completion::LoopBridge>()?;
    m.add_class::<http::PyOpenApiClient>()?;
    m.add_class::<http::PyAsapiClient>()?;
    m.add_function(wrap_pyfunction!(completion::completion_pump, m)?)?;
    m.add_function(wrap_pyfunction!(logging::log_pump, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::at_exit, m)?)?;
    m.add_function(wrap_pyfunction!(consumer::core_consume_bench, m)?)?;
    // The names the core gives results, so the package's enums can be checked against them.
    m.add("_ACTION_NAMES", [rocketmq_ons::Action::CommitMessage.name(), rocketmq_ons::Action::ReconsumeLater.name()])?;
    m.add(
        "_ORDER_ACTION_NAMES",
        [rocketmq_ons::OrderAction::Success.name(), rocketmq_ons::OrderAction::Suspend.name()],
    )?;
    logging::install();
    Ok(())
}
