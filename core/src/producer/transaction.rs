//! The ONS `TransactionProducer`: sends a half message, runs the local transaction, ends it with
//! END_TRANSACTION, and answers the broker's check-back through the user's checker.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{Mode, ProducerCore, QueueChoice};
use crate::client::instance::{ClientInstance, GroupRequestHandler};
use crate::client::namespace;
use crate::config::{ClientConfig, Properties};
use crate::error::{Error, ErrorKind, Result};
use crate::message::{from_stored, Message, SendResult, SendStatus};
use crate::protocol::codes::request;
use crate::protocol::headers::{CheckTransactionStateRequestHeader, EndTransactionRequestHeader, RequestHeader};
use crate::protocol::message::{decode_stored_messages, property, sys_flag};
use crate::protocol::msgid::decode_offset_msg_id;
use crate::trace::record::{EndTransactionTrace, TraceMessageType};
use crate::trace::{TraceRecord, DEFAULT_TRACE_REGION};
use crate::transport::InboundRequest;

/// The outcome of a local transaction (ONS names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    CommitTransaction,
    RollbackTransaction,
    Unknow,
}

impl TransactionStatus {
    /// The END_TRANSACTION `commitOrRollback` value.
    fn wire_value(self) -> i32 {
        match self {
            TransactionStatus::CommitTransaction => sys_flag::TRANSACTION_COMMIT_TYPE,
            TransactionStatus::RollbackTransaction => sys_flag::TRANSACTION_ROLLBACK_TYPE,
            TransactionStatus::Unknow => sys_flag::TRANSACTION_NOT_TYPE,
        }
    }

    /// The Java `LocalTransactionState` name, as EndTransaction trace records carry it.
    fn java_state(self) -> &'static str {
        match self {
            TransactionStatus::CommitTransaction => "COMMIT_MESSAGE",
            TransactionStatus::RollbackTransaction => "ROLLBACK_MESSAGE",
            TransactionStatus::Unknow => "UNKNOW",
        }
    }
}

/// What an EndTransaction trace record says about one transaction's end.
struct EndTrace<'a> {
    msg: &'a Message,
    msg_id: &'a str,
    addr: &'a str,
    region: Option<&'a str>,
    transaction_id: &'a str,
    status: TransactionStatus,
    from_check: bool,
}

/// Queues the EndTransaction trace record of `end` when `core` traces (Java
/// `EndTransactionTraceHookImpl`: message type `Trans_msg_Commit` whatever the outcome, the
/// region `DefaultRegion` when the message names none).
fn trace_end(core: &ProducerCore, end: EndTrace<'_>) {
    let Some(tracer) = core.tracer() else { return };
    tracer.append(TraceRecord::EndTransaction(EndTransactionTrace {
        timestamp: crate::message::now_ms(),
        region_id: end.region.filter(|r| !r.is_empty()).unwrap_or(DEFAULT_TRACE_REGION).to_owned(),
        group: core.config.group_id.clone(),
        topic: end.msg.topic.clone(),
        msg_id: end.msg_id.to_owned(),
        tags: end.msg.tag.clone().filter(|t| !t.is_empty()),
        keys: end.msg.key.clone().filter(|k| !k.is_empty()),
        store_host: end.addr.to_owned(),
        msg_type: TraceMessageType::TransactionCommit,
        transaction_id: end.transaction_id.to_owned(),
        transaction_state: end.status.java_state().to_owned(),
        from_transaction_check: end.from_check,
    }));
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Answers the broker's question about a transaction whose outcome it has not heard.
pub trait LocalTransactionChecker: Send + Sync + 'static {
    fn check(&self, msg: Message) -> BoxFuture<TransactionStatus>;
}

impl<F, Fut> LocalTransactionChecker for F
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TransactionStatus> + Send + 'static,
{
    fn check(&self, msg: Message) -> BoxFuture<TransactionStatus> {
        Box::pin(self(msg))
    }
}

/// Runs a user future on its own task so a panic in it becomes `Unknow` (the broker will ask
/// again) instead of tearing down the caller.
async fn run_guarded(fut: BoxFuture<TransactionStatus>, what: &str) -> TransactionStatus {
    match tokio::spawn(fut).await {
        Ok(status) => status,
        Err(e) => {
            crate::log_limit::warn_limited!(error = %e, "{what} panicked; reporting the transaction as unknown");
            TransactionStatus::Unknow
        }
    }
}

struct CheckHandler {
    core: Weak<ProducerCore>,
    checker: Arc<dyn LocalTransactionChecker>,
    namespace: Option<String>,
}

impl GroupRequestHandler for CheckHandler {
    fn handle(&self, instance: &Arc<ClientInstance>, req: InboundRequest) {
        if req.command.code != request::CHECK_TRANSACTION_STATE {
            return;
        }
        let Some(core) = self.core.upgrade() else { return };
        let checker = self.checker.clone();
        let instance = instance.clone();
        let namespace = self.namespace.clone();
        tokio::spawn(async move {
            if let Err(e) = answer_check(&core, &instance, checker, namespace.as_deref(), req).await {
                crate::log_limit::warn_limited!(error = %e, "could not answer a transaction check");
            }
        });
    }
}

async fn answer_check(
    core: &ProducerCore,
    instance: &ClientInstance,
    checker: Arc<dyn LocalTransactionChecker>,
    namespace: Option<&str>,
    req: InboundRequest,
) -> Result<()> {
    let header = CheckTransactionStateRequestHeader::decode(&req.command)?;
    let stored = decode_stored_messages(&req.command.body)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::protocol("transaction check carries no message"))?;
    let unique_key = stored.properties.get(property::UNIQ_KEY).map(str::to_owned);
    let topic = namespace::unwrap(namespace, &stored.topic);
    let broker = header.broker_name.unwrap_or_default().to_owned();
    let region = stored.properties.get(property::MSG_REGION).map(str::to_owned);
    let msg = from_stored(stored, &broker, topic);
    let status = run_guarded(checker.check(msg.clone()), "transaction checker").await;
    let msg_id = unique_key.or_else(|| header.msg_id.map(str::to_owned)).unwrap_or_default();
    let end = EndTransactionRequestHeader {
        topic: header.topic,
        producer_group: core.wire_group(),
        tran_state_table_offset: header.tran_state_table_offset,
        commit_log_offset: header.commit_log_offset,
        commit_or_rollback: status.wire_value(),
        from_transaction_check: true,
        msg_id: &msg_id,
        transaction_id: header.transaction_id,
        broker_name: header.broker_name,
    }
    .command();
    tracing::debug!(status = ?status, from = %req.addr, "answering transaction check");
    let sent = instance.invoke_oneway(&req.addr, end, Duration::from_secs(3)).await;
    if sent.is_ok() {
        trace_end(
            core,
            EndTrace {
                msg: &msg,
                msg_id: &msg_id,
                addr: &req.addr.to_string(),
                region: region.as_deref(),
                transaction_id: header.transaction_id.unwrap_or(&msg_id),
                status,
                from_check: true,
            },
        );
    }
    sent
}

/// The ONS `TransactionProducer`.
pub struct TransactionProducer {
    core: Arc<ProducerCore>,
    handler: Arc<CheckHandler>,
}

impl TransactionProducer {
    /// Creates a transaction producer; `checker` answers the broker's check-backs.
    pub fn new(properties: &Properties, checker: Arc<dyn LocalTransactionChecker>) -> Result<Self> {
        let config = ClientConfig::from_properties(properties, true)?;
        let namespace = config.namespace.clone();
        let core = Arc::new(ProducerCore::new(config));
        let handler = Arc::new(CheckHandler { core: Arc::downgrade(&core), checker, namespace });
        Ok(TransactionProducer { core, handler })
    }

    pub fn start(&self) -> Result<()> {
        let handler: Arc<dyn GroupRequestHandler> = self.handler.clone();
        self.core.start(Some(Arc::downgrade(&handler)))
    }

    pub async fn shutdown(&self) {
        self.core.shutdown().await
    }

    pub fn is_started(&self) -> bool {
        self.core.is_started()
    }

    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// As [`Producer::trace_counts`](crate::Producer::trace_counts).
    pub fn trace_counts(&self) -> Option<crate::trace::TraceCounts> {
        self.core.trace_counts()
    }

    /// As [`Producer::update_credential`](crate::Producer::update_credential).
    pub fn update_credential(&self, properties: &Properties) -> Result<()> {
        self.core.update_credential(properties)
    }

    /// Sends `msg` as a half message, runs `executor` on it, and commits or rolls back by its
    /// answer. `Unknow` (or a panicking executor) leaves the decision to the check-back.
    pub async fn send<F, Fut>(&self, msg: &Message, executor: F) -> Result<SendResult>
    where
        F: FnOnce(Message) -> Fut + Send + 'static,
        Fut: Future<Output = TransactionStatus> + Send + 'static,
    {
        if msg.start_deliver_time.is_some() {
            return Err(Error::invalid_argument("transaction messages cannot be timed (start deliver time is set)")
                .for_message(None, &msg.topic));
        }
        let instance = self.core.instance().map_err(|e| e.for_message(None, &msg.topic))?;
        let result = self
            .core
            .send(msg, Mode::Sync, QueueChoice::RoundRobin, true)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "half message send produced no result"))?;
        let status = if result.status == SendStatus::SendOk {
            let mut handed = msg.clone();
            handed.msg_id = Some(result.message_id.clone());
            run_guarded(Box::pin(async move { executor(handed).await }), "local transaction executor").await
        } else {
            TransactionStatus::RollbackTransaction
        };
        let about_it = |e: Error| e.for_message(Some(result.message_id.clone()), &msg.topic);
        let commit_log_offset = decode_offset_msg_id(&result.offset_msg_id).map_err(about_it)?.commit_log_offset;
        let addr = instance
            .master_addr(&result.broker_name)
            .ok_or_else(|| Error::network(format!("no master address for broker {}", result.broker_name)))
            .map_err(about_it)?;
        let end = EndTransactionRequestHeader {
            topic: Some(&namespace::wrap(self.core.config.namespace.as_deref(), &msg.topic)),
            producer_group: self.core.wire_group(),
            tran_state_table_offset: result.queue_offset,
            commit_log_offset,
            commit_or_rollback: status.wire_value(),
            from_transaction_check: false,
            msg_id: &result.message_id,
            transaction_id: result.transaction_id.as_deref(),
            broker_name: Some(&result.broker_name),
        }
        .command();
        // Oneway, as the Java client: if it is lost, the broker's check-back settles it.
        match instance.invoke_oneway(&addr, end, Duration::from_secs(3)).await {
            Err(e) => tracing::warn!(error = %e, "END_TRANSACTION not sent; the broker will check back"),
            Ok(()) => trace_end(
                &self.core,
                EndTrace {
                    msg,
                    msg_id: &result.message_id,
                    addr: &addr,
                    region: None,
                    transaction_id: result.transaction_id.as_deref().unwrap_or(&result.message_id),
                    status,
                    from_check: false,
                },
            ),
        }
        Ok(result)
    }
}
