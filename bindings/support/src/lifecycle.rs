//! The lifecycle every core producer and consumer handle has, as one trait, so a binding can
//! keep a list of live clients (to shut them down at exit) or write start/shutdown and
//! credential rotation once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Start, shutdown and state of a core client handle.
pub trait ClientLifecycle: Send + Sync + 'static {
    /// Producers (whose callbacks are send completions a binding lets finish before core shuts
    /// down), as opposed to consumers (which must stop dispatching before callbacks are shut off).
    fn is_producer(&self) -> bool;
    fn start_client(&self) -> rocketmq_ons::Result<()>;
    /// Owned, so it can run as a task of its own.
    fn shutdown_client(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
    fn started(&self) -> bool;
    fn closed(&self) -> bool;
    /// The core's `update_credential` (ONS `Admin.updateCredential`).
    fn update_client_credential(&self, properties: &rocketmq_ons::Properties) -> rocketmq_ons::Result<()>;
    /// The core's `trace_counts`: the message trace records sent and dropped, `None` when the
    /// client has not traced (`MsgTraceSwitch=false`, or never started).
    fn client_trace_counts(&self) -> Option<rocketmq_ons::trace::TraceCounts>;
}

macro_rules! impl_lifecycle {
    ($($ty:ty: $producer:expr),* $(,)?) => {$(
        impl ClientLifecycle for $ty {
            fn is_producer(&self) -> bool {
                $producer
            }

            fn start_client(&self) -> rocketmq_ons::Result<()> {
                self.start()
            }

            fn shutdown_client(self: Arc<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                Box::pin(async move { self.shutdown().await })
            }

            fn started(&self) -> bool {
                self.is_started()
            }

            fn closed(&self) -> bool {
                self.is_closed()
            }

            fn update_client_credential(&self, properties: &rocketmq_ons::Properties) -> rocketmq_ons::Result<()> {
                self.update_credential(properties)
            }

            fn client_trace_counts(&self) -> Option<rocketmq_ons::trace::TraceCounts> {
                self.trace_counts()
            }
        }
    )*};
}

impl_lifecycle!(
    rocketmq_ons::Producer: true,
    rocketmq_ons::OrderProducer: true,
    rocketmq_ons::TransactionProducer: true,
    rocketmq_ons::Consumer: false,
    rocketmq_ons::OrderConsumer: false,
    rocketmq_ons::BatchConsumer: false,
    rocketmq_ons::PullConsumer: false,
);
