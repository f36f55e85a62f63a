//! What the C, Python and Node bindings share and core has no use for: the one tokio runtime
//! of a process and its fork rules ([`runtime`]), handles bound to the process that made them
//! ([`ProcessBound`]), the lifecycle every producer and consumer handle has
//! ([`ClientLifecycle`]), the batching executor of event-loop bindings ([`dispatch`]), and the
//! text and queue bound of the core's log events on their way to each binding's logging
//! ([`log_forward`]).
//! RocketMQ logic stays in core; this crate only adapts it to foreign runtimes.

use std::future::Future;
use std::pin::Pin;

pub mod dispatch;
mod lifecycle;
pub mod log_forward;
mod process_bound;
mod runtime;

pub use lifecycle::ClientLifecycle;
pub use process_bound::{ProcessBound, ProcessHome};
pub use runtime::runtime;

/// `future` on the heap, where a binding first takes it. A core call's future is as large as
/// the largest state it can reach (a producer's send: about 2.4 KB), and every move copies all
/// of it: a Node `send()` was moved six times on its way through closures, the dispatcher and
/// its box, 4.2k of an `await send()`'s 80k instructions in `memcpy` (callgrind). Boxed once,
/// it moves as a pointer.
pub fn boxed_future<F: Future>(future: F) -> Pin<Box<F>> {
    Box::pin(future)
}
