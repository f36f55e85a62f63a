//! Message property keys (Java `MessageConst`, and the ONS keys) and the set brokers reserve
//! (docs/remoting-protocol.md §5.3).

#[allow(unused_imports)]
use super::*;
use std::sync::LazyLock;

/// Message property keys (Java `MessageConst`, plus the ONS keys the open-source client lacks).
pub mod property {
    /// Tag of the message (one tag; its Java hash is the tags code brokers filter on).
    pub const TAGS: &str = "TAGS";
    /// Business keys separated by [`KEY_SEPARATOR`]; indexed for QUERY_MESSAGE.
    pub const KEYS: &str = "KEYS";
    /// Separator between several [`KEYS`].
    pub const KEY_SEPARATOR: &str = " ";
    /// Client-side unique message id (docs/remoting-protocol.md §7.2).
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    /// `true`: the broker answers only after the message is stored.
    pub const WAIT: &str = "WAIT";
    /// 4.x delay level 1..=18.
    pub const DELAY: &str = "DELAY";
    /// `true` marks a transactional half message.
    pub const TRAN_MSG: &str = "TRAN_MSG";
    /// Producer group (required on half messages).
    pub const PGROUP: &str = "PGROUP";
    /// Client-local copy of the transaction id.
    pub const TRANSACTION_ID: &str = "__transactionId__";
    /// First transaction check not before this many seconds.
    pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
    /// Number of transaction checks already done (broker).
    pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
    /// Queue offset of the half message (broker).
    pub const TRAN_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
    /// Original topic of a retried message.
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    /// Reconsume count when re-sent through the producer path.
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    /// Maximum reconsume count when re-sent through the producer path.
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    /// Message id of the first delivery of a retried message.
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    /// Original topic of delayed, timer and half messages.
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    /// Original queue id of delayed, timer and half messages.
    pub const REAL_QID: &str = "REAL_QID";
    /// Queue min offset from the pull response (consumer-local).
    pub const MIN_OFFSET: &str = "MIN_OFFSET";
    /// Queue max offset from the pull response (consumer-local).
    pub const MAX_OFFSET: &str = "MAX_OFFSET";
    /// Consumption start time, for the consume timeout (consumer-local).
    pub const CONSUME_START_TIME: &str = "CONSUME_START_TIME";
    /// 5.x timer: absolute deliver time in ms.
    pub const TIMER_DELIVER_MS: &str = "TIMER_DELIVER_MS";
    /// 5.x timer: relative delay in seconds.
    pub const TIMER_DELAY_SEC: &str = "TIMER_DELAY_SEC";
    /// 5.x timer: relative delay in ms.
    pub const TIMER_DELAY_MS: &str = "TIMER_DELAY_MS";
    /// Timer internals (broker).
    pub const TIMER_OUT_MS: &str = "TIMER_OUT_MS";
    /// Timer internals (broker).
    pub const TIMER_ENQUEUE_MS: &str = "TIMER_ENQUEUE_MS";
    /// Timer internals (broker).
    pub const TIMER_DEQUEUE_MS: &str = "TIMER_DEQUEUE_MS";
    /// Timer internals (broker).
    pub const TIMER_ROLL_TIMES: &str = "TIMER_ROLL_TIMES";
    /// Timer internals (broker).
    pub const TIMER_DEL_UNIQKEY: &str = "TIMER_DEL_UNIQKEY";
    /// Timer internals (broker).
    pub const TIMER_DELAY_LEVEL: &str = "TIMER_DELAY_LEVEL";
    /// ONS absolute deliver time in ms; only Alibaba Cloud brokers act on it.
    pub const START_DELIVER_TIME: &str = "__STARTDELIVERTIME";
    /// ONS sharding (ordering) key; metadata only for open-source brokers.
    pub const SHARDING_KEY: &str = "__SHARDINGKEY";
    /// Namespace of the producer.
    pub const INSTANCE_ID: &str = "INSTANCE_ID";
    /// Broker-added trace switch.
    pub const TRACE_ON: &str = "TRACE_ON";
    /// Broker-added region.
    pub const MSG_REGION: &str = "MSG_REGION";
    /// Broker-added cluster name.
    pub const CLUSTER: &str = "CLUSTER";
    /// Request-reply: message type.
    pub const MSG_TYPE: &str = "MSG_TYPE";
    /// Request-reply: correlation id.
    pub const CORRELATION_ID: &str = "CORRELATION_ID";
    /// Request-reply: client to reply to.
    pub const REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
    /// Request-reply: time to live.
    pub const TTL: &str = "TTL";
    /// Request-reply: arrive time.
    pub const ARRIVE_TIME: &str = "ARRIVE_TIME";
    /// Request-reply: push reply time.
    pub const PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
    /// Reserved.
    pub const BUYER_ID: &str = "BUYER_ID";
    /// Reserved.
    pub const TRANSFER_FLAG: &str = "TRANSFER_FLAG";
    /// Reserved.
    pub const CORRECTION_FLAG: &str = "CORRECTION_FLAG";
    /// Reserved.
    pub const MQ2_FLAG: &str = "MQ2_FLAG";
    /// Reserved.
    pub const EXTEND_UNIQ_INFO: &str = "EXTEND_UNIQ_INFO";
    /// Reserved.
    pub const DUP_INFO: &str = "DUP_INFO";
    /// Inner-batch message count.
    pub const INNER_NUM: &str = "INNER_NUM";
    /// Inner-batch base offset.
    pub const INNER_BASE: &str = "INNER_BASE";
    /// Multi-dispatch (light message queue) targets.
    pub const INNER_MULTI_DISPATCH: &str = "INNER_MULTI_DISPATCH";
    /// Multi-dispatch queue offsets.
    pub const INNER_MULTI_QUEUE_OFFSET: &str = "INNER_MULTI_QUEUE_OFFSET";
    /// POP checkpoint.
    pub const POP_CK: &str = "POP_CK";
    /// POP checkpoint offset.
    pub const POP_CK_OFFSET: &str = "POP_CK_OFFSET";
    /// First POP time.
    pub const FIRST_POP_TIME: &str = "1ST_POP_TIME";
    /// Born host as text.
    pub const BORN_HOST: &str = "__BORNHOST";
    /// Born timestamp as text.
    pub const BORN_TIMESTAMP: &str = "BORN_TIMESTAMP";
    /// Original topic of a dead-lettered message.
    pub const DLQ_ORIGIN_TOPIC: &str = "DLQ_ORIGIN_TOPIC";
    /// Original message id of a dead-lettered message.
    pub const DLQ_ORIGIN_MESSAGE_ID: &str = "DLQ_ORIGIN_MESSAGE_ID";
    /// Trace context.
    pub const TRACE_CONTEXT: &str = "TRACE_CONTEXT";
    /// Redirect marker.
    pub const REDIRECT: &str = "REDIRECT";
    /// Forward queue id.
    pub const FORWARD_QUEUE_ID: &str = "PROPERTY_FORWARD_QUEUE_ID";
    /// Body CRC appended by brokers with `enabledAppendPropCRC`.
    pub const CRC32: &str = "__CRC32#";
    /// Properties starting with this prefix are never stored by brokers.
    pub const TRANSIENT_PREFIX: &str = "__RMQ.TRANSIENT.";
}

/// Keys Java's `Message.putUserProperty` refuses (`MessageConst.STRING_HASH_SET`, Apache
/// RocketMQ master 2025-09). Keys a user legitimately sets through the property API in Java,
/// such as `CHECK_IMMUNITY_TIME_IN_SECONDS`, `__SHARDINGKEY` and `__STARTDELIVERTIME`, are
/// deliberately not in it.
pub(crate) const RESERVED_PROPERTIES: [&str; 51] = [
    property::TRACE_ON,
    property::MSG_REGION,
    property::KEYS,
    property::TAGS,
    property::WAIT,
    property::DELAY,
    property::RETRY_TOPIC,
    property::REAL_TOPIC,
    property::REAL_QID,
    property::TRAN_MSG,
    property::PGROUP,
    property::MIN_OFFSET,
    property::MAX_OFFSET,
    property::BUYER_ID,
    property::ORIGIN_MESSAGE_ID,
    property::TRANSFER_FLAG,
    property::CORRECTION_FLAG,
    property::MQ2_FLAG,
    property::RECONSUME_TIME,
    property::UNIQ_KEY,
    property::MAX_RECONSUME_TIMES,
    property::CONSUME_START_TIME,
    property::POP_CK,
    property::POP_CK_OFFSET,
    property::FIRST_POP_TIME,
    property::TRAN_PREPARED_QUEUE_OFFSET,
    property::DUP_INFO,
    property::EXTEND_UNIQ_INFO,
    property::INSTANCE_ID,
    property::CORRELATION_ID,
    property::REPLY_TO_CLIENT,
    property::TTL,
    property::ARRIVE_TIME,
    property::PUSH_REPLY_TIME,
    property::CLUSTER,
    property::MSG_TYPE,
    property::INNER_MULTI_QUEUE_OFFSET,
    property::TIMER_DELAY_MS,
    property::TIMER_DELAY_SEC,
    property::TIMER_DELIVER_MS,
    property::TIMER_ENQUEUE_MS,
    property::TIMER_DEQUEUE_MS,
    property::TIMER_ROLL_TIMES,
    property::TIMER_OUT_MS,
    property::TIMER_DEL_UNIQKEY,
    property::TIMER_DELAY_LEVEL,
    property::BORN_HOST,
    property::BORN_TIMESTAMP,
    property::DLQ_ORIGIN_TOPIC,
    property::DLQ_ORIGIN_MESSAGE_ID,
    property::CRC32,
];

/// Whether `key` is a system property a user may not set (Java `MessageConst.STRING_HASH_SET`).
pub fn is_reserved_property(key: &str) -> bool {
    static RESERVED: LazyLock<NameSet> = LazyLock::new(|| NameSet::new(RESERVED_PROPERTIES));
    RESERVED.contains(key)
}

/// A fixed set of property names, grouped by length. A consumer asks for every property of
/// every message it receives whether the name is a system one (about a dozen a message, most
/// of them system names); against a list of 51 names each question cost some 140 instructions,
/// here it compares with the few names of the same length.
pub(crate) struct NameSet {
    /// Index: a name's length in bytes.
    by_length: Vec<Vec<&'static str>>,
}

impl NameSet {
    pub(crate) fn new(names: impl IntoIterator<Item = &'static str>) -> NameSet {
        let mut by_length: Vec<Vec<&'static str>> = Vec::new();
        for name in names {
            if by_length.len() <= name.len() {
                by_length.resize_with(name.len() + 1, Vec::new);
            }
            by_length[name.len()].push(name);
        }
        NameSet { by_length }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_length.get(name.len()).is_some_and(|same_length| same_length.contains(&name))
    }
}
