//! What the C, Python and Node bindings share and core has no use for: the one tokio runtime
//! of a process and its fork rules ([`runtime`]), handles bound to the process that made them
//! ([`ProcessBound`]), the lifecycle every producer and consumer handle has
//! ([`ClientLifecycle`]), the batching executor of event-loop bindings ([`dispatch`]), and the
//! text and queue bound of the core's log events on their way to each binding's logging
//! ([`log_forward`]).
//! RocketMQ logic stays in core; this crate only adapts it to foreign runtimes.

pub mod dispatch;
mod lifecycle;
pub mod log_forward;
mod process_bound;
mod runtime;

pub use lifecycle::ClientLifecycle;
pub use process_bound::{ProcessBound, ProcessHome};
pub use runtime::runtime;
