//! CONSUME_MESSAGE_DIRECTLY: an administrator (the Dashboard's "resend to this consumer",
//! `mqadmin queryMsgById -g G -d clientId`) has a broker send one stored message to this
//! client, which runs the listener on it outside the normal flow (no offset moves, nothing is
//! retried or sent back) and answers how it went, as the Java client does
//! (`ConsumeMessageConcurrentlyService.consumeMessageDirectly` and its orderly twin): a
//! `ConsumeMessageDirectlyResult` body with CR_SUCCESS, CR_LATER, CR_THROW_EXCEPTION (and the
//! panic's message) and the time the listener took.

use super::*;
use crate::consumer::pull::user_topic;
use crate::message::from_stored;
use crate::protocol::message::decode_stored_messages;

/// How long a deferred listener (bindings' event loops) has to answer: the broker waits 10 s
/// for the client (`Broker2Client.callClient`), so a later answer would reach nobody.
const DEFERRED_ANSWER_TIMEOUT: Duration = Duration::from_secs(8);

/// What the listener made of the message (Java `CMResult` names).
enum DirectOutcome {
    Result(&'static str),
    Failed(String),
}

impl Engine {
    pub(super) fn consume_directly(&self, req: InboundRequest) {
        let message = match self.direct_message(&req.command) {
            Ok(m) => m,
            Err(e) => {
                let answer = RemotingCommand::response(response::SYSTEM_ERROR, 0, Some(e.message().to_owned()));
                return req.responder.respond(answer);
            }
        };
        let Some(listener) = self.listener_for(&message.topic) else {
            let remark = format!("this consumer of {} does not subscribe to {}", self.group, message.topic);
            return req.responder.respond(RemotingCommand::response(response::SYSTEM_ERROR, 0, Some(remark)));
        };
        let orderly = matches!(listener, Listener::Orderly(_));
        let queue = MessageQueue::new(
            message.topic.clone(),
            message.received.as_ref().map(|r| r.broker_name.clone()).unwrap_or_default(),
            message.received.as_ref().map_or(0, |r| r.queue_id),
        );
        let spawned = self.spawn(async move {
            let started = Instant::now();
            let outcome = run_listener(listener, message, queue).await;
            let spent = started.elapsed().as_millis() as i64;
            let (result, remark) = match outcome {
                DirectOutcome::Result(r) => (r, None),
                DirectOutcome::Failed(why) => ("CR_THROW_EXCEPTION", Some(why)),
            };
            let body = json!({
                "order": orderly,
                "autoCommit": true,
                "consumeResult": result,
                "remark": remark,
                "spentTimeMills": spent,
            });
            let answer = RemotingCommand::response(response::SUCCESS, 0, None).with_body(body.to_string().into_bytes());
            req.responder.respond(answer);
        });
        if spawned.is_none() {
            tracing::debug!(group = %self.group, "a message to consume directly arrived before start; not answered");
        }
    }

    /// The message of a CONSUME_MESSAGE_DIRECTLY request, as a listener gets it: the body is
    /// the stored message, `brokerName` the broker that read it; a message of the group's retry
    /// topic goes back to its original topic (Java `resetRetryAndNamespace`).
    fn direct_message(&self, cmd: &RemotingCommand) -> Result<Message> {
        let mut stored = decode_stored_messages(&cmd.body)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::protocol("the request to consume a message directly carries no message"))?;
        let user_topic = user_topic(&mut stored, &retry_topic(&self.group), self.namespace());
        Ok(from_stored(stored, cmd.ext("brokerName").unwrap_or_default(), user_topic))
    }
}

/// Runs `listener` on `message`: blocking listeners on a blocking thread, a deferred one until
/// it answers (or [`DEFERRED_ANSWER_TIMEOUT`]).
async fn run_listener(listener: Listener, message: Message, queue: MessageQueue) -> DirectOutcome {
    let consumed = |ok: bool| DirectOutcome::Result(if ok { "CR_SUCCESS" } else { "CR_LATER" });
    let blocking = match listener {
        Listener::Concurrent(l) => tokio::task::spawn_blocking(move || {
            caught(|| l.consume(&message, &ConsumeContext { queue }) == Action::CommitMessage)
        }),
        Listener::Batch(l) => tokio::task::spawn_blocking(move || {
            caught(|| l.consume(std::slice::from_ref(&message), &ConsumeContext { queue }) == Action::CommitMessage)
        }),
        Listener::Orderly(l) => tokio::task::spawn_blocking(move || {
            caught(|| l.consume(&message, &ConsumeOrderContext { queue }) == OrderAction::Success)
        }),
        Listener::Deferred(l) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let reply = ActionReply::new(move |action| {
                let _ = tx.send(action);
            });
            let delivered = DeliveredMessage::new(Arc::from([message]));
            if let Err(why) = caught(|| l.consume(delivered, &ConsumeContext { queue }, reply)) {
                return DirectOutcome::Failed(why);
            }
            return match tokio::time::timeout(DEFERRED_ANSWER_TIMEOUT, rx).await {
                Ok(Ok(action)) => consumed(action == Action::CommitMessage),
                _ => DirectOutcome::Failed(format!("the listener did not answer within {DEFERRED_ANSWER_TIMEOUT:?}")),
            };
        }
    };
    match blocking.await {
        Ok(Ok(ok)) => consumed(ok),
        Ok(Err(why)) => DirectOutcome::Failed(why),
        Err(e) => DirectOutcome::Failed(e.to_string()),
    }
}

/// Runs user code; a panic becomes its message (Java reports the exception's description).
fn caught<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        format!("the listener panicked: {what}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_their_message() {
        assert_eq!(caught(|| 3), Ok(3));
        let e = caught(|| -> i32 { panic!("boom (expected by the test)") }).unwrap_err();
        assert_eq!(e, "the listener panicked: boom (expected by the test)");
        let e = caught(|| -> i32 { std::panic::panic_any(7) }).unwrap_err();
        assert!(e.ends_with("a panic without a message"));
    }
}
