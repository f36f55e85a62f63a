//! The ONS consumer handles: [`Consumer`], [`OrderConsumer`], [`BatchConsumer`]. Each is a thin
//! typed front over the shared [`Engine`]; they differ in their listener type and defaults.

use std::sync::Arc;

use super::engine::{Engine, Listener};
use super::listener::{
    BatchMessageListener, DeferredMessageListener, MessageListener, MessageOrderListener, MessageSelector,
};
use super::settings::{ConsumerKind, ConsumerSettings};
use crate::config::{ClientConfig, Properties};
use crate::error::Result;
use crate::protocol::route::MessageQueue;

/// The methods every consumer kind shares; they differ in the listener type.
macro_rules! consumer_handle {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $listener:ident, $variant:ident) => {
        $(#[$doc])*
        pub struct $name {
            engine: Arc<Engine>,
        }

        impl $name {
            /// Creates a consumer from ONS properties (NAMESRV_ADDR and GROUP_ID required; see
            /// [`crate::config::keys`] for the consumer settings). Nothing connects before
            /// [`start`](Self::start).
            pub fn new(properties: &Properties) -> Result<Self> {
                let config = ClientConfig::from_properties(properties, true)?;
                let settings = ConsumerSettings::from_properties(properties, $kind)?;
                Ok($name { engine: Engine::new(config, settings, $kind) })
            }

            /// Subscribes to `topic` with a tag expression (`*` or empty for all, or tags
            /// separated by `||`); before or after `start`. Subscribing again replaces the
            /// expression and the listener.
            pub fn subscribe(&self, topic: &str, expression: &str, listener: Arc<dyn $listener>) -> Result<()> {
                self.subscribe_with_selector(topic, &MessageSelector::by_tag(expression), listener)
            }

            /// Subscribes with a tag or SQL92 selector.
            pub fn subscribe_with_selector(
                &self,
                topic: &str,
                selector: &MessageSelector,
                listener: Arc<dyn $listener>,
            ) -> Result<()> {
                self.engine.subscribe(topic, selector, Listener::$variant(listener))
            }

            /// Stops consuming `topic` (also while started).
            pub fn unsubscribe(&self, topic: &str) -> Result<()> {
                self.engine.unsubscribe(topic)
            }

            /// Joins the group and starts consuming. Must be called within a tokio runtime, whose
            /// workers then carry the network work; listeners run on threads of the consumer's own.
            pub fn start(&self) -> Result<()> {
                self.engine.start()
            }

            /// Stops consuming, commits every offset and leaves the group. Listeners still running
            /// get a short grace period; messages not finished are delivered again later.
            pub async fn shutdown(&self) {
                self.engine.shutdown().await
            }

            pub fn is_started(&self) -> bool {
                self.engine.is_started()
            }

            /// What this consumer's message traces came to (`MsgTraceSwitch`): records sent
            /// and dropped, while it runs and after shutdown; `None` when it has not traced.
            pub fn trace_counts(&self) -> Option<crate::trace::TraceCounts> {
                self.engine.trace_counts()
            }

            pub fn is_closed(&self) -> bool {
                self.engine.is_closed()
            }

            /// As [`Producer::update_credential`](crate::Producer::update_credential): pulls,
            /// offset commits and heartbeats are signed with the new credentials from the next
            /// request on.
            pub fn update_credential(&self, properties: &Properties) -> Result<()> {
                let credentials = crate::config::rotation_credentials(properties)?;
                if self.engine.is_closed() {
                    return Err(crate::Error::not_started("consumer was shut down"));
                }
                self.engine.instance()?.update_credentials(credentials);
                Ok(())
            }

            /// The queues of subscribed topics this instance consumes at the moment (names without
            /// namespace; the group's retry queue is not listed).
            pub fn assignment(&self) -> Vec<MessageQueue> {
                self.engine.assignment()
            }

            /// Messages pulled but not yet consumed, and their body bytes: what
            /// MaxCachedMessageAmount and MaxCachedMessageSizeInMiB bound (a pull may overshoot
            /// a queue's share by one pull, at most 32 messages).
            pub fn cache_usage(&self) -> (usize, usize) {
                self.engine.cache_usage()
            }
        }

        impl Drop for $name {
            /// A consumer dropped while started shuts down in the background.
            fn drop(&mut self) {
                self.engine.shutdown_in_background();
            }
        }
    };
}

consumer_handle!(
    /// The ONS `Consumer`: messages of each subscribed topic are handed to its
    /// [`MessageListener`], concurrently (up to ConsumeThreadNums at a time).
    Consumer,
    ConsumerKind::Concurrent,
    MessageListener,
    Concurrent
);

consumer_handle!(
    /// The ONS `OrderConsumer`: each queue's messages are consumed one at a time in queue order
    /// (messages of one sharding key share a queue), by one instance of the group at a time.
    OrderConsumer,
    ConsumerKind::Orderly,
    MessageOrderListener,
    Orderly
);

consumer_handle!(
    /// The ONS `BatchConsumer`: the listener gets up to ConsumeMessageBatchMaxSize messages of
    /// one queue and topic at a time; its result applies to all of them.
    BatchConsumer,
    ConsumerKind::Batch,
    BatchMessageListener,
    Batch
);

impl Consumer {
    /// Subscribes with a listener that answers later (see [`DeferredMessageListener`]); for
    /// bindings whose listeners run on an event loop. Replaces any earlier subscription of
    /// `topic`, like [`subscribe`](Self::subscribe).
    pub fn subscribe_deferred(
        &self,
        topic: &str,
        selector: &MessageSelector,
        listener: Arc<dyn DeferredMessageListener>,
    ) -> Result<()> {
        self.engine.subscribe(topic, selector, Listener::Deferred(listener))
    }
}
