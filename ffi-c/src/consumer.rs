//! `ons_consumer_t`, `ons_order_consumer_t`, `ons_batch_consumer_t`: the ONS push consumers.
//! Core calls listeners on threads it owns for them (never the runtime's workers); the
//! trampolines here only translate the message and the answer, and pass through the handle's
//! gate so that no listener runs once shutdown has returned.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use ons::{
    Action, BatchConsumer, BatchMessageListener, ConsumeContext, ConsumeOrderContext, Consumer, Message,
    MessageListener, MessageOrderListener, MessageSelector, OrderAction, OrderConsumer,
};

use crate::args;
use crate::error::{guard, invalid_argument, Result};
use ons_binding_support::ClientLifecycle;

use crate::handle::{write_trace_counts, Handle, OnsTraceCounts};
use crate::message::{OnsConsumeContext, OnsMessage};
use crate::properties::{core_properties, OnsProperties};
use crate::runtime::{Gate, UserData};

/// Listener answers (ONS Action).
pub const ONS_ACTION_COMMIT_MESSAGE: i32 = 0;
/// Deliver again later (10 s, 30 s, 1 min, ... after each failure) until MaxReconsumeTimes.
pub const ONS_ACTION_RECONSUME_LATER: i32 = 1;
/// Order listener answers (ONS OrderAction).
pub const ONS_ORDER_ACTION_SUCCESS: i32 = 0;
/// Deliver the same message again after suspendTimeMillis; its queue waits for it.
pub const ONS_ORDER_ACTION_SUSPEND: i32 = 1;

/// Consumes one message: return ONS_ACTION_COMMIT_MESSAGE or ONS_ACTION_RECONSUME_LATER (any
/// other value counts as _RECONSUME_LATER). Called on library threads, up to
/// ConsumeThreadNums at once. `message` and `context` are lent for the call's duration.
pub type OnsMessageListener = Option<
    unsafe extern "C" fn(user_data: *mut c_void, message: *const OnsMessage, context: *const OnsConsumeContext) -> i32,
>;

/// Consumes one message of an ordered queue: return ONS_ORDER_ACTION_SUCCESS or
/// ONS_ORDER_ACTION_SUSPEND (any other value counts as _SUSPEND). Messages of one queue come
/// one at a time, in order; different queues concurrently, on library threads.
pub type OnsMessageOrderListener = OnsMessageListener;

/// Consumes up to ConsumeMessageBatchMaxSize messages of one queue and topic at once:
/// `messages` is an array of `count` lent message pointers. The answer applies to all of them.
pub type OnsBatchMessageListener = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        messages: *const *const OnsMessage,
        count: usize,
        context: *const OnsConsumeContext,
    ) -> i32,
>;

type ListenerFn = unsafe extern "C" fn(*mut c_void, *const OnsMessage, *const OnsConsumeContext) -> i32;
type BatchFn = unsafe extern "C" fn(*mut c_void, *const *const OnsMessage, usize, *const OnsConsumeContext) -> i32;

struct CListener<F> {
    callback: F,
    user_data: UserData,
    gate: Arc<Gate>,
}

impl MessageListener for CListener<ListenerFn> {
    fn consume(&self, message: &Message, context: &ConsumeContext) -> Action {
        let Some(_pass) = self.gate.enter() else { return Action::ReconsumeLater };
        let view = OnsMessage::borrowed(message);
        let ctx = OnsConsumeContext::new(&context.queue);
        // SAFETY: callback and user_data live until destroy, which waits for this pass.
        match self.gate.marked(|| unsafe { (self.callback)(self.user_data.ptr(), &view, &ctx) }) {
            ONS_ACTION_COMMIT_MESSAGE => Action::CommitMessage,
            _ => Action::ReconsumeLater,
        }
    }
}

/// The order listener is a distinct type so the trait impls do not overlap.
struct COrderListener(CListener<ListenerFn>);

impl MessageOrderListener for COrderListener {
    fn consume(&self, message: &Message, context: &ConsumeOrderContext) -> OrderAction {
        let l = &self.0;
        let Some(_pass) = l.gate.enter() else { return OrderAction::Suspend };
        let view = OnsMessage::borrowed(message);
        let ctx = OnsConsumeContext::new(&context.queue);
        match l.gate.marked(|| unsafe { (l.callback)(l.user_data.ptr(), &view, &ctx) }) {
            ONS_ORDER_ACTION_SUCCESS => OrderAction::Success,
            _ => OrderAction::Suspend,
        }
    }
}

impl BatchMessageListener for CListener<BatchFn> {
    fn consume(&self, messages: &[Message], context: &ConsumeContext) -> Action {
        let Some(_pass) = self.gate.enter() else { return Action::ReconsumeLater };
        let views: Vec<OnsMessage> = messages.iter().map(OnsMessage::borrowed).collect();
        let pointers: Vec<*const OnsMessage> = views.iter().map(|v| v as *const OnsMessage).collect();
        let ctx = OnsConsumeContext::new(&context.queue);
        match self
            .gate
            .marked(|| unsafe { (self.callback)(self.user_data.ptr(), pointers.as_ptr(), pointers.len(), &ctx) })
        {
            ONS_ACTION_COMMIT_MESSAGE => Action::CommitMessage,
            _ => Action::ReconsumeLater,
        }
    }
}

/// A concurrent push consumer (ONS Consumer / PushConsumer). Thread-safe.
pub struct OnsConsumer {
    h: Handle<Consumer>,
}

/// An ordered push consumer (ONS OrderConsumer). Thread-safe.
pub struct OnsOrderConsumer {
    h: Handle<OrderConsumer>,
}

/// A batch push consumer (ONS BatchConsumer). Thread-safe.
pub struct OnsBatchConsumer {
    h: Handle<BatchConsumer>,
}

unsafe fn handle<'a, H: 'a, T: 'a>(ptr: *const H, get: fn(&H) -> &Handle<T>) -> Result<&'a Handle<T>> {
    let h: &'a H = args::obj(ptr, "consumer")?;
    get(h).live()
}

unsafe fn selector(expression: *const c_char, sql92: bool) -> Result<MessageSelector> {
    if sql92 {
        return Ok(MessageSelector::by_sql(args::string(expression, "sql")?));
    }
    Ok(MessageSelector::by_tag(args::opt_string(expression, "expression")?.unwrap_or("*")))
}

fn out_flag(out: *mut i32, value: impl FnOnce() -> Result<i32>) -> Result<()> {
    let out = unsafe { args::out(out, "out") }?;
    *out = value()?;
    Ok(())
}

trait Subscribe: ClientLifecycle {
    type Listener: ?Sized;
    fn subscribe_with(&self, topic: &str, selector: &MessageSelector, listener: Arc<Self::Listener>)
        -> ons::Result<()>;
    fn unsubscribe_topic(&self, topic: &str) -> ons::Result<()>;
}

macro_rules! subscribe {
    ($t:ty, $l:path) => {
        impl Subscribe for $t {
            type Listener = dyn $l;
            fn subscribe_with(&self, topic: &str, s: &MessageSelector, l: Arc<dyn $l>) -> ons::Result<()> {
                self.subscribe_with_selector(topic, s, l)
            }
            fn unsubscribe_topic(&self, topic: &str) -> ons::Result<()> {
                self.unsubscribe(topic)
            }
        }
    };
}

subscribe!(Consumer, MessageListener);
subscribe!(OrderConsumer, MessageOrderListener);
subscribe!(BatchConsumer, BatchMessageListener);

unsafe fn do_subscribe<T: Subscribe>(
    h: &Handle<T>,
    topic: *const c_char,
    expression: *const c_char,
    sql92: bool,
    listener: impl FnOnce(Arc<Gate>) -> Result<Arc<T::Listener>>,
) -> Result<()> {
    let topic = args::string(topic, "topic")?;
    let selector = selector(expression, sql92)?;
    let listener = listener(h.gate.clone())?;
    h.inner.subscribe_with(topic, &selector, listener)?;
    Ok(())
}

fn listener_fn(f: OnsMessageListener) -> Result<ListenerFn> {
    f.ok_or_else(|| invalid_argument("listener is NULL"))
}

// ------------------------------------------------------------------------------- Consumer

/// Creates a concurrent consumer from ONS properties (NAMESRV_ADDR and GROUP_ID required;
/// MessageModel, ConsumeThreadNums, MaxReconsumeTimes, ConsumeTimeout, ConsumeFromWhere, ...
/// optional). Invalid properties fail with ONS_ERR_INVALID_CONFIG naming the property. Release
/// it with ons_consumer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_new(properties: *const OnsProperties, out: *mut *mut OnsConsumer) -> i32 {
    guard("ons_consumer_new", || {
        let out = args::out_ptr(out, "out")?;
        let consumer = Consumer::new(&core_properties(properties)?)?;
        *out = Box::into_raw(Box::new(OnsConsumer { h: Handle::new(consumer, Gate::new(), "consumer") }));
        Ok(())
    })
}

/// Subscribes to `topic` with a tag expression (NULL, "" or "*" for all; tags separated by
/// "||"), before or after start; subscribing again replaces the expression and listener.
/// `user_data` must stay valid until ons_consumer_destroy (or _shutdown) returns.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_subscribe(
    consumer: *mut OnsConsumer,
    topic: *const c_char,
    expression: *const c_char,
    listener: OnsMessageListener,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_consumer_subscribe", || {
        let h = handle(consumer, |c: &OnsConsumer| &c.h)?;
        do_subscribe(h, topic, expression, false, |gate| {
            Ok(Arc::new(CListener { callback: listener_fn(listener)?, user_data: UserData(user_data), gate }))
        })
    })
}

/// Subscribes with an SQL92 condition over user properties (the broker must run with
/// enablePropertyFilter=true). Otherwise as ons_consumer_subscribe.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_subscribe_sql92(
    consumer: *mut OnsConsumer,
    topic: *const c_char,
    sql: *const c_char,
    listener: OnsMessageListener,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_consumer_subscribe_sql92", || {
        let h = handle(consumer, |c: &OnsConsumer| &c.h)?;
        do_subscribe(h, topic, sql, true, |gate| {
            Ok(Arc::new(CListener { callback: listener_fn(listener)?, user_data: UserData(user_data), gate }))
        })
    })
}

/// Stops consuming `topic` (also while started).
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_unsubscribe(consumer: *mut OnsConsumer, topic: *const c_char) -> i32 {
    guard("ons_consumer_unsubscribe", || {
        let h = handle(consumer, |c: &OnsConsumer| &c.h)?;
        h.inner.unsubscribe_topic(args::string(topic, "topic")?)
    })
}

/// Joins the group and starts consuming (idempotent).
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_start(consumer: *mut OnsConsumer) -> i32 {
    guard("ons_consumer_start", || handle(consumer, |c: &OnsConsumer| &c.h)?.start())
}

/// Stops consuming, commits offsets and leaves the group; when it returns, no listener of this
/// consumer runs. Again: ONS_ERR_NOT_STARTED; from inside this consumer's listener:
/// ONS_ERR_INVALID_ARGUMENT (it would wait for itself).
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_shutdown(consumer: *mut OnsConsumer) -> i32 {
    guard("ons_consumer_shutdown", || handle(consumer, |c: &OnsConsumer| &c.h)?.shutdown("ons_consumer_shutdown"))
}

/// Shuts down (unless done) and frees the consumer. NULL is accepted. From inside this
/// consumer's listener it fails with ONS_ERR_INVALID_ARGUMENT and frees nothing.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_destroy(consumer: *mut OnsConsumer) -> i32 {
    guard("ons_consumer_destroy", || Handle::destroy(consumer, |c: &OnsConsumer| &c.h, "ons_consumer_destroy"))
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_is_started(consumer: *const OnsConsumer, out: *mut i32) -> i32 {
    guard("ons_consumer_is_started", || out_flag(out, || Ok(handle(consumer, |c: &OnsConsumer| &c.h)?.is_started())))
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_is_closed(consumer: *const OnsConsumer, out: *mut i32) -> i32 {
    guard("ons_consumer_is_closed", || out_flag(out, || Ok(handle(consumer, |c: &OnsConsumer| &c.h)?.is_closed())))
}

/// `*out` = what the consumer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_trace_counts(consumer: *const OnsConsumer, out: *mut OnsTraceCounts) -> i32 {
    guard("ons_consumer_trace_counts", || write_trace_counts(out, || handle(consumer, |c: &OnsConsumer| &c.h)))
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started consumer for its next requests
/// (ONS updateCredential), and of the clients sharing its settings and credentials. AccessKey
/// and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing), SecurityToken is
/// optional (not given: none is sent), other known properties are ignored. ONS_ERR_NOT_STARTED
/// before start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_consumer_update_credential(
    consumer: *mut OnsConsumer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_consumer_update_credential", || handle(consumer, |c: &OnsConsumer| &c.h)?.update_credential(properties))
}

// -------------------------------------------------------------------------- OrderConsumer

/// Creates an order consumer (properties as for ons_consumer_new; suspendTimeMillis sets the
/// pause before a suspended message comes again). Release it with ons_order_consumer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_new(
    properties: *const OnsProperties,
    out: *mut *mut OnsOrderConsumer,
) -> i32 {
    guard("ons_order_consumer_new", || {
        let out = args::out_ptr(out, "out")?;
        let consumer = OrderConsumer::new(&core_properties(properties)?)?;
        *out = Box::into_raw(Box::new(OnsOrderConsumer { h: Handle::new(consumer, Gate::new(), "order consumer") }));
        Ok(())
    })
}

/// Subscribes with a tag expression and an order listener; as ons_consumer_subscribe.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_subscribe(
    consumer: *mut OnsOrderConsumer,
    topic: *const c_char,
    expression: *const c_char,
    listener: OnsMessageOrderListener,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_order_consumer_subscribe", || {
        let h = handle(consumer, |c: &OnsOrderConsumer| &c.h)?;
        do_subscribe(h, topic, expression, false, |gate| {
            let l = CListener { callback: listener_fn(listener)?, user_data: UserData(user_data), gate };
            Ok(Arc::new(COrderListener(l)))
        })
    })
}

/// Subscribes with an SQL92 condition and an order listener; as ons_consumer_subscribe_sql92.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_subscribe_sql92(
    consumer: *mut OnsOrderConsumer,
    topic: *const c_char,
    sql: *const c_char,
    listener: OnsMessageOrderListener,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_order_consumer_subscribe_sql92", || {
        let h = handle(consumer, |c: &OnsOrderConsumer| &c.h)?;
        do_subscribe(h, topic, sql, true, |gate| {
            let l = CListener { callback: listener_fn(listener)?, user_data: UserData(user_data), gate };
            Ok(Arc::new(COrderListener(l)))
        })
    })
}

/// Stops consuming `topic`.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_unsubscribe(consumer: *mut OnsOrderConsumer, topic: *const c_char) -> i32 {
    guard("ons_order_consumer_unsubscribe", || {
        let h = handle(consumer, |c: &OnsOrderConsumer| &c.h)?;
        h.inner.unsubscribe_topic(args::string(topic, "topic")?)
    })
}

/// Joins the group and starts consuming (idempotent).
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_start(consumer: *mut OnsOrderConsumer) -> i32 {
    guard("ons_order_consumer_start", || handle(consumer, |c: &OnsOrderConsumer| &c.h)?.start())
}

/// As ons_consumer_shutdown; also releases the queue locks at the brokers.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_shutdown(consumer: *mut OnsOrderConsumer) -> i32 {
    guard("ons_order_consumer_shutdown", || {
        handle(consumer, |c: &OnsOrderConsumer| &c.h)?.shutdown("ons_order_consumer_shutdown")
    })
}

/// As ons_consumer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_destroy(consumer: *mut OnsOrderConsumer) -> i32 {
    guard("ons_order_consumer_destroy", || {
        Handle::destroy(consumer, |c: &OnsOrderConsumer| &c.h, "ons_order_consumer_destroy")
    })
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_is_started(consumer: *const OnsOrderConsumer, out: *mut i32) -> i32 {
    guard("ons_order_consumer_is_started", || {
        out_flag(out, || Ok(handle(consumer, |c: &OnsOrderConsumer| &c.h)?.is_started()))
    })
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_is_closed(consumer: *const OnsOrderConsumer, out: *mut i32) -> i32 {
    guard("ons_order_consumer_is_closed", || {
        out_flag(out, || Ok(handle(consumer, |c: &OnsOrderConsumer| &c.h)?.is_closed()))
    })
}

/// `*out` = what the order consumer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_trace_counts(
    consumer: *const OnsOrderConsumer,
    out: *mut OnsTraceCounts,
) -> i32 {
    guard("ons_order_consumer_trace_counts", || {
        write_trace_counts(out, || handle(consumer, |c: &OnsOrderConsumer| &c.h))
    })
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started order consumer for its next requests
/// (ONS updateCredential), and of the clients sharing its settings and credentials. AccessKey
/// and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing), SecurityToken is
/// optional (not given: none is sent), other known properties are ignored. ONS_ERR_NOT_STARTED
/// before start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_order_consumer_update_credential(
    consumer: *mut OnsOrderConsumer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_order_consumer_update_credential", || {
        handle(consumer, |c: &OnsOrderConsumer| &c.h)?.update_credential(properties)
    })
}

// -------------------------------------------------------------------------- BatchConsumer

/// Creates a batch consumer (properties as for ons_consumer_new; ConsumeMessageBatchMaxSize,
/// 1 to 32, sets the largest batch). Release it with ons_batch_consumer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_new(
    properties: *const OnsProperties,
    out: *mut *mut OnsBatchConsumer,
) -> i32 {
    guard("ons_batch_consumer_new", || {
        let out = args::out_ptr(out, "out")?;
        let consumer = BatchConsumer::new(&core_properties(properties)?)?;
        *out = Box::into_raw(Box::new(OnsBatchConsumer { h: Handle::new(consumer, Gate::new(), "batch consumer") }));
        Ok(())
    })
}

fn batch_fn(f: OnsBatchMessageListener) -> Result<BatchFn> {
    f.ok_or_else(|| invalid_argument("listener is NULL"))
}

/// Subscribes with a tag expression and a batch listener; as ons_consumer_subscribe.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_subscribe(
    consumer: *mut OnsBatchConsumer,
    topic: *const c_char,
    expression: *const c_char,
    listener: OnsBatchMessageListener,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_batch_consumer_subscribe", || {
        let h = handle(consumer, |c: &OnsBatchConsumer| &c.h)?;
        do_subscribe(h, topic, expression, false, |gate| {
            Ok(Arc::new(CListener { callback: batch_fn(listener)?, user_data: UserData(user_data), gate }))
        })
    })
}

/// Subscribes with an SQL92 condition and a batch listener; as ons_consumer_subscribe_sql92.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_subscribe_sql92(
    consumer: *mut OnsBatchConsumer,
    topic: *const c_char,
    sql: *const c_char,
    listener: OnsBatchMessageListener,
    user_data: *mut c_void,
) -> i32 {
    guard("ons_batch_consumer_subscribe_sql92", || {
        let h = handle(consumer, |c: &OnsBatchConsumer| &c.h)?;
        do_subscribe(h, topic, sql, true, |gate| {
            Ok(Arc::new(CListener { callback: batch_fn(listener)?, user_data: UserData(user_data), gate }))
        })
    })
}

/// Stops consuming `topic`.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_unsubscribe(consumer: *mut OnsBatchConsumer, topic: *const c_char) -> i32 {
    guard("ons_batch_consumer_unsubscribe", || {
        let h = handle(consumer, |c: &OnsBatchConsumer| &c.h)?;
        h.inner.unsubscribe_topic(args::string(topic, "topic")?)
    })
}

/// Joins the group and starts consuming (idempotent).
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_start(consumer: *mut OnsBatchConsumer) -> i32 {
    guard("ons_batch_consumer_start", || handle(consumer, |c: &OnsBatchConsumer| &c.h)?.start())
}

/// As ons_consumer_shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_shutdown(consumer: *mut OnsBatchConsumer) -> i32 {
    guard("ons_batch_consumer_shutdown", || {
        handle(consumer, |c: &OnsBatchConsumer| &c.h)?.shutdown("ons_batch_consumer_shutdown")
    })
}

/// As ons_consumer_destroy.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_destroy(consumer: *mut OnsBatchConsumer) -> i32 {
    guard("ons_batch_consumer_destroy", || {
        Handle::destroy(consumer, |c: &OnsBatchConsumer| &c.h, "ons_batch_consumer_destroy")
    })
}

/// `*out` = 1 if started and not shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_is_started(consumer: *const OnsBatchConsumer, out: *mut i32) -> i32 {
    guard("ons_batch_consumer_is_started", || {
        out_flag(out, || Ok(handle(consumer, |c: &OnsBatchConsumer| &c.h)?.is_started()))
    })
}

/// `*out` = 1 if shut down, else 0.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_is_closed(consumer: *const OnsBatchConsumer, out: *mut i32) -> i32 {
    guard("ons_batch_consumer_is_closed", || {
        out_flag(out, || Ok(handle(consumer, |c: &OnsBatchConsumer| &c.h)?.is_closed()))
    })
}

/// `*out` = what the batch consumer's message traces came to (`MsgTraceSwitch`; see
/// `ons_trace_counts_t`), while it runs and after shutdown.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_trace_counts(
    consumer: *const OnsBatchConsumer,
    out: *mut OnsTraceCounts,
) -> i32 {
    guard("ons_batch_consumer_trace_counts", || {
        write_trace_counts(out, || handle(consumer, |c: &OnsBatchConsumer| &c.h))
    })
}

/// Replaces AccessKey, SecretKey and SecurityToken of the started batch consumer for its next requests
/// (ONS updateCredential), and of the clients sharing its settings and credentials. AccessKey
/// and SecretKey are required (ONS_ERR_INVALID_CONFIG naming the one missing), SecurityToken is
/// optional (not given: none is sent), other known properties are ignored. ONS_ERR_NOT_STARTED
/// before start and after shutdown. The map is only read.
#[no_mangle]
pub unsafe extern "C" fn ons_batch_consumer_update_credential(
    consumer: *mut OnsBatchConsumer,
    properties: *const OnsProperties,
) -> i32 {
    guard("ons_batch_consumer_update_credential", || {
        handle(consumer, |c: &OnsBatchConsumer| &c.h)?.update_credential(properties)
    })
}
