//! What user code sees of consumption: the listener traits of the three ONS consumers, their
//! results ([`Action`], [`OrderAction`]) and contexts, and [`MessageSelector`].
//!
//! The traits are object safe and synchronous on purpose: the C, Python and Node bindings
//! implement them over a callback, and a listener may block (it runs on a thread of its own,
//! never on a runtime worker). Closures implement them too.

use std::sync::Arc;

use crate::message::Message;
use crate::protocol::route::MessageQueue;

/// The result of a [`MessageListener`] or [`BatchMessageListener`] (ONS `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Consumed: the message will not be delivered to this group again.
    CommitMessage,
    /// Failed: the broker delivers it again later (10 s, 30 s, 1 min, ... after each failure)
    /// until MaxReconsumeTimes, then moves it to the group's dead-letter queue.
    ReconsumeLater,
}

impl Action {
    /// The ONS name (`CommitMessage`, `ReconsumeLater`).
    pub fn name(self) -> &'static str {
        match self {
            Action::CommitMessage => "CommitMessage",
            Action::ReconsumeLater => "ReconsumeLater",
        }
    }

    /// ONS `Action.valueOf`: the exact name, nothing else.
    pub fn from_name(name: &str) -> Option<Action> {
        [Action::CommitMessage, Action::ReconsumeLater].into_iter().find(|a| a.name() == name)
    }

    /// What a binding's listener answered (an action name, or `None` when it threw, returned
    /// nothing or something else): anything but `CommitMessage` counts as failed, so the
    /// message is retried, as the ONS SDKs treat a listener that throws or returns null.
    pub fn from_listener_answer(answer: Option<&str>) -> Action {
        answer.and_then(Action::from_name).unwrap_or(Action::ReconsumeLater)
    }
}

/// The result of a [`MessageOrderListener`] (ONS `OrderAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// Consumed: the queue moves on to the next message.
    Success,
    /// Failed: the same message is delivered again after `suspendTimeMillis`, and nothing after
    /// it in its queue is delivered before it succeeds (or reaches the dead-letter queue).
    Suspend,
}

impl OrderAction {
    /// The ONS name (`Success`, `Suspend`).
    pub fn name(self) -> &'static str {
        match self {
            OrderAction::Success => "Success",
            OrderAction::Suspend => "Suspend",
        }
    }

    /// ONS `OrderAction.valueOf`: the exact name, nothing else.
    pub fn from_name(name: &str) -> Option<OrderAction> {
        [OrderAction::Success, OrderAction::Suspend].into_iter().find(|a| a.name() == name)
    }

    /// What a binding's order listener answered: anything but `Success` suspends the queue,
    /// as in the ONS SDKs (see [`Action::from_listener_answer`]).
    pub fn from_listener_answer(answer: Option<&str>) -> OrderAction {
        answer.and_then(OrderAction::from_name).unwrap_or(OrderAction::Suspend)
    }
}

/// Where a delivered message comes from. For a message redelivered after a failure the queue is
/// one of the group's retry queues (`%RETRY%<group>`), while the message's topic is the original.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumeContext {
    /// The queue the message was pulled from (names without namespace).
    pub queue: MessageQueue,
}

/// The context of an ordered delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumeOrderContext {
    /// The queue the message was pulled from (names without namespace).
    pub queue: MessageQueue,
}

/// Consumes one message at a time; called concurrently from up to ConsumeThreadNums threads.
/// A panic counts as [`Action::ReconsumeLater`], as does exceeding ConsumeTimeout.
pub trait MessageListener: Send + Sync {
    fn consume(&self, message: &Message, context: &ConsumeContext) -> Action;
}

impl<F> MessageListener for F
where
    F: Fn(&Message, &ConsumeContext) -> Action + Send + Sync,
{
    fn consume(&self, message: &Message, context: &ConsumeContext) -> Action {
        self(message, context)
    }
}

/// Consumes the messages of each queue one at a time, in queue order; different queues are
/// consumed concurrently. A panic counts as [`OrderAction::Suspend`].
pub trait MessageOrderListener: Send + Sync {
    fn consume(&self, message: &Message, context: &ConsumeOrderContext) -> OrderAction;
}

impl<F> MessageOrderListener for F
where
    F: Fn(&Message, &ConsumeOrderContext) -> OrderAction + Send + Sync,
{
    fn consume(&self, message: &Message, context: &ConsumeOrderContext) -> OrderAction {
        self(message, context)
    }
}

/// Consumes up to ConsumeMessageBatchMaxSize messages at once (all from one queue and of one
/// topic); the result applies to every message of the batch.
pub trait BatchMessageListener: Send + Sync {
    fn consume(&self, messages: &[Message], context: &ConsumeContext) -> Action;
}

impl<F> BatchMessageListener for F
where
    F: Fn(&[Message], &ConsumeContext) -> Action + Send + Sync,
{
    fn consume(&self, messages: &[Message], context: &ConsumeContext) -> Action {
        self(messages, context)
    }
}

/// The answer a [`DeferredMessageListener`] owes for one delivery. [`send`](Self::send) it once,
/// from any thread; dropped unanswered (a binding's callback that threw, an environment going
/// away) it counts as [`Action::ReconsumeLater`].
pub struct ActionReply {
    settle: Option<Box<dyn FnOnce(Action) + Send>>,
}

impl ActionReply {
    pub(crate) fn new(settle: impl FnOnce(Action) + Send + 'static) -> Self {
        ActionReply { settle: Some(Box::new(settle)) }
    }

    /// Settles the delivery: commit, or hand the message back for a later retry.
    pub fn send(mut self, action: Action) {
        if let Some(settle) = self.settle.take() {
            settle(action);
        }
    }
}

impl Drop for ActionReply {
    fn drop(&mut self) {
        if let Some(settle) = self.settle.take() {
            settle(Action::ReconsumeLater);
        }
    }
}

impl std::fmt::Debug for ActionReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.settle.is_some() { "ActionReply(pending)" } else { "ActionReply(sent)" })
    }
}

/// A message handed to a [`DeferredMessageListener`]: shared with the consumer, which keeps it
/// until the reply (for a retry), so the listener may keep it as long as it likes without
/// copying it. Reads as a [`Message`].
#[derive(Clone)]
pub struct DeliveredMessage {
    /// The consumer's one-message batch; always exactly one element.
    batch: Arc<[Message]>,
}

impl DeliveredMessage {
    /// `batch` must hold exactly one message.
    pub(crate) fn new(batch: Arc<[Message]>) -> Self {
        debug_assert_eq!(batch.len(), 1);
        DeliveredMessage { batch }
    }
}

impl std::ops::Deref for DeliveredMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.batch[0]
    }
}

impl std::fmt::Debug for DeliveredMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// A concurrent listener that answers later, through an [`ActionReply`]. For bindings whose
/// listeners run on an event loop (Node.js, asyncio): the consumer hands each message over and
/// goes on, instead of parking one of its threads per message until the loop answers. At most
/// ConsumeThreadNums deliveries are unanswered at a time; ConsumeTimeout applies to each.
pub trait DeferredMessageListener: Send + Sync {
    /// Called on one of the consumer's runtime threads: take what is needed and return at once
    /// (never block here). A panic counts as [`Action::ReconsumeLater`].
    fn consume(&self, message: DeliveredMessage, context: &ConsumeContext, reply: ActionReply);
}

/// How a subscription selects messages (ONS `MessageSelector`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSelector {
    /// A tag expression: `*` or empty for all, or tags separated by `||`.
    Tag(String),
    /// An SQL92 condition over user properties (the broker must run with
    /// `enablePropertyFilter=true`).
    Sql92(String),
}

impl MessageSelector {
    pub fn by_tag(expression: impl Into<String>) -> Self {
        MessageSelector::Tag(expression.into())
    }

    pub fn by_sql(sql: impl Into<String>) -> Self {
        MessageSelector::Sql92(sql.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_answer_other_than_success_is_a_failure() {
        assert_eq!(Action::from_listener_answer(Some("CommitMessage")), Action::CommitMessage);
        for answer in [None, Some("ReconsumeLater"), Some("commitmessage"), Some("")] {
            assert_eq!(Action::from_listener_answer(answer), Action::ReconsumeLater, "{answer:?}");
        }
        assert_eq!(OrderAction::from_listener_answer(Some("Success")), OrderAction::Success);
        for answer in [None, Some("Suspend"), Some("CommitMessage")] {
            assert_eq!(OrderAction::from_listener_answer(answer), OrderAction::Suspend, "{answer:?}");
        }
    }

    #[test]
    fn names_round_trip_exactly() {
        for a in [Action::CommitMessage, Action::ReconsumeLater] {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        for a in [OrderAction::Success, OrderAction::Suspend] {
            assert_eq!(OrderAction::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_name("commitmessage"), None);
        assert_eq!(OrderAction::from_name(" Success"), None);
    }

    #[test]
    fn closures_are_listeners() {
        let l: std::sync::Arc<dyn MessageListener> =
            std::sync::Arc::new(
                |m: &Message, _: &ConsumeContext| {
                    if m.body.is_empty() {
                        Action::ReconsumeLater
                    } else {
                        Action::CommitMessage
                    }
                },
            );
        let ctx = ConsumeContext { queue: MessageQueue::new("T", "b", 0) };
        assert_eq!(l.consume(&Message::new("T", None, "x"), &ctx), Action::CommitMessage);
        let b: std::sync::Arc<dyn BatchMessageListener> =
            std::sync::Arc::new(
                |ms: &[Message], _: &ConsumeContext| {
                    if ms.len() > 1 {
                        Action::CommitMessage
                    } else {
                        Action::ReconsumeLater
                    }
                },
            );
        assert_eq!(b.consume(&[], &ctx), Action::ReconsumeLater);
    }
}
