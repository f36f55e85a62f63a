//! The ONS `Message`: what users send and receive, with the ONS limits checked before anything
//! goes on the wire, and the `SendResult` a send returns.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::protocol::message::{property, NameSet, StoredProperties, RESERVED_PROPERTIES};

/// Longest topic the ONS API accepts.
pub const MAX_TOPIC_LEN: usize = 255;
/// Largest body the ONS API and the brokers accept (4 MiB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Largest encoded property string (the broker stores its length as a signed 16-bit value).
pub const MAX_PROPERTIES_BYTES: usize = 32767;
/// How far ahead a timed message may be scheduled (ONS: 40 days).
pub const MAX_DELIVER_AHEAD_MS: i64 = 40 * 24 * 3600 * 1000;

/// A message to send, or one received. Received-only fields are `None` on messages built by
/// the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub tag: Option<String>,
    /// Business key(s); several keys are separated by a single space, as in the Java client.
    pub key: Option<String>,
    pub body: Bytes,
    user_properties: BTreeMap<String, String>,
    /// The message id users see (the client-assigned unique key); set by send and on receipt.
    pub msg_id: Option<String>,
    pub reconsume_times: i32,
    pub born_timestamp: Option<i64>,
    pub born_host: Option<SocketAddr>,
    /// Absolute delivery time in ms since the epoch (timed messages).
    pub start_deliver_time: Option<i64>,
    pub sharding_key: Option<String>,
    /// Received messages: where and when the broker stored it.
    pub received: Option<ReceivedInfo>,
}

/// Facts only a received message has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivedInfo {
    pub queue_id: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub store_timestamp: i64,
    pub store_host: Option<SocketAddr>,
    pub offset_msg_id: String,
    pub broker_name: String,
    /// Every property as stored (system ones included).
    pub properties: StoredProperties,
    /// Set only on a consumer's stand-in for a stored message that did not decode (why not):
    /// such a message is handed back to the broker, never to a listener.
    pub undecodable: Option<String>,
    /// What a consumer's trace records read of `properties`, found in the one pass that builds
    /// the message rather than looked up for each record (two lookups were a tenth of what
    /// tracing added to a drained message: docs/traces.md).
    pub(crate) trace_marks: TraceMarks,
}

/// See [`ReceivedInfo::trace_marks`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TraceMarks {
    /// The broker stored the message with `TRACE_ON=false`: no consume records.
    pub(crate) trace_off: bool,
    /// Where the value of `MSG_REGION` is in the properties' text ([`StoredProperties::at`]).
    pub(crate) region: Option<std::ops::Range<usize>>,
}

impl Message {
    pub fn new(topic: impl Into<String>, tag: Option<&str>, body: impl Into<Bytes>) -> Self {
        Message { topic: topic.into(), tag: tag.map(str::to_owned), body: body.into(), ..Default::default() }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a user property. Keys the system reserves (TAGS, KEYS, UNIQ_KEY, ...) are refused so
    /// they can never silently override message metadata.
    pub fn put_user_property(&mut self, key: impl Into<String>, value: impl Into<String>) -> Result<()> {
        let key = key.into();
        let value = value.into();
        if key.is_empty() {
            return Err(Error::invalid_argument("user property key is empty"));
        }
        if value.is_empty() {
            // The property encoding drops empty values, so storing one would lose it silently.
            return Err(Error::invalid_argument(format!("user property {key:?} has an empty value")));
        }
        if is_system_property(&key) {
            return Err(Error::invalid_argument(format!("user property key {key:?} is reserved by the system")));
        }
        if let Some(c) = key.chars().chain(value.chars()).find(|c| *c == '\u{1}' || *c == '\u{2}') {
            return Err(Error::invalid_argument(format!(
                "user property {key:?} contains the separator character {:?}",
                c
            )));
        }
        self.user_properties.insert(key, value);
        Ok(())
    }

    pub fn user_property(&self, key: &str) -> Option<&str> {
        self.user_properties.get(key).map(String::as_str)
    }

    pub fn user_properties(&self) -> &BTreeMap<String, String> {
        &self.user_properties
    }

    /// Checks the ONS limits that can be checked without the wire encoding.
    pub fn validate(&self) -> Result<()> {
        validate_topic(&self.topic)?;
        if self.body.is_empty() {
            return Err(Error::invalid_argument("message body is empty"));
        }
        if self.body.len() > MAX_BODY_BYTES {
            return Err(Error::invalid_argument(format!(
                "message body is {} bytes; the limit is {MAX_BODY_BYTES} bytes (4 MiB)",
                self.body.len()
            )));
        }
        if let Some(tag) = &self.tag {
            if tag.contains("||") {
                return Err(Error::invalid_argument(format!("tag {tag:?} contains \"||\", the expression separator")));
            }
            check_no_separators("tag", tag)?;
        }
        if let Some(key) = &self.key {
            check_no_separators("key", key)?;
        }
        // An empty sharding key means "none" on a message (it is not sent); OrderProducer::send
        // refuses an empty key given to it (validate_sharding_key).
        if let Some(sk) = self.sharding_key.as_deref().filter(|k| !k.is_empty()) {
            validate_sharding_key(sk)?;
        }
        if let Some(at) = self.start_deliver_time {
            let now = now_ms();
            if at > now + MAX_DELIVER_AHEAD_MS {
                return Err(Error::invalid_argument(format!(
                    "start deliver time {at} is more than 40 days ahead (now {now})"
                )));
            }
        }
        Ok(())
    }
}

/// The ONS keys this API exposes as message fields or sets itself, which users may not set
/// either.
const ONS_SYSTEM_PROPERTIES: [&str; 6] = [
    property::START_DELIVER_TIME,
    property::SHARDING_KEY,
    property::INSTANCE_ID,
    property::TRANSACTION_ID,
    property::CHECK_IMMUNITY_TIME_IN_SECONDS,
    property::TRANSACTION_CHECK_TIMES,
];

/// Keys users may not set and do not see among user properties: the Java client's reserved
/// set, plus the ONS keys this API exposes as message fields or sets itself
/// ([`ONS_SYSTEM_PROPERTIES`]), and transient ones.
pub fn is_system_property(key: &str) -> bool {
    static SYSTEM: LazyLock<NameSet> =
        LazyLock::new(|| NameSet::new(RESERVED_PROPERTIES.into_iter().chain(ONS_SYSTEM_PROPERTIES)));
    SYSTEM.contains(key) || key.starts_with(property::TRANSIENT_PREFIX)
}

fn check_no_separators(what: &str, value: &str) -> Result<()> {
    if crate::protocol::message::contains_separator(value) {
        return Err(Error::invalid_argument(format!("{what} {value:?} contains a property separator character")));
    }
    Ok(())
}

/// A sharding key the ONS API accepts: not blank (empty or whitespace only; the ONS Java SDK's
/// `OrderProducer.send` refuses those with "'shardingKey' is blank", as the key would pick a
/// queue for text that means nothing) and free of property separators.
pub fn validate_sharding_key(key: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(Error::invalid_argument(format!(
            "shardingKey {key:?} is blank; a sharding key needs a non-whitespace character"
        )));
    }
    check_no_separators("shardingKey", key)
}

/// Topic rules of the ONS API: 1 to 255 characters of `[A-Za-z0-9_-]`.
pub fn validate_topic(topic: &str) -> Result<()> {
    if topic.is_empty() {
        return Err(Error::invalid_argument("topic is empty"));
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(Error::invalid_argument(format!(
            "topic is {} characters long; at most {MAX_TOPIC_LEN} are allowed",
            topic.len()
        )));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    // By bytes (every allowed character is one ASCII byte): this runs for every message sent,
    // and decoding chars cost about three times as much.
    if !topic.bytes().all(allowed) {
        let c = topic.chars().find(|c| !(c.is_ascii() && allowed(*c as u8))).unwrap_or('?');
        return Err(Error::invalid_argument(format!(
            "topic {topic:?} contains {c:?}; only A-Z a-z 0-9 _ - are allowed"
        )));
    }
    Ok(())
}

/// Milliseconds since the Unix epoch by the wall clock; 0 when it reads earlier than that.
pub(crate) fn now_ms() -> i64 {
    // Read several times per message (a send's birth time, a listener call's start and end,
    // trace records): one `clock_gettime` and integer arithmetic, where `SystemTime`'s checked
    // subtraction and 128-bit milliseconds took some 75 instructions a call (callgrind).
    #[cfg(unix)]
    {
        // SAFETY: a timespec is plain integers (some targets add padding fields, hence not a
        // literal), for which all zeros is a valid value.
        let mut now: libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: `now` is a timespec the call may write; CLOCK_REALTIME exists on every unix.
        let read = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) } == 0;
        if !read || now.tv_sec < 0 {
            return 0;
        }
        // `tv_nsec` is below 10^9: whole milliseconds by a division by a constant.
        // `time_t` and `c_long` are 32 bits wide on some targets: widened, never narrowed.
        #[allow(clippy::unnecessary_cast)]
        let ms = (now.tv_sec as i64).saturating_mul(1000) + now.tv_nsec as i64 / 1_000_000;
        ms
    }
    #[cfg(not(unix))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// How the broker stored a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    SendOk,
    FlushDiskTimeout,
    FlushSlaveTimeout,
    SlaveNotAvailable,
}

impl SendStatus {
    pub fn name(self) -> &'static str {
        match self {
            SendStatus::SendOk => "SEND_OK",
            SendStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            SendStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
            SendStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
        }
    }
}

/// The result of a successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// The message id (client unique key), as ONS reports it.
    pub message_id: String,
    /// The topic, without namespace. Shared (as the broker name is) by the results of one
    /// batch, which would otherwise copy both for every message.
    pub topic: Arc<str>,
    pub status: SendStatus,
    pub broker_name: Arc<str>,
    pub queue_id: i32,
    pub queue_offset: i64,
    /// The broker's offset message id (store host + commit-log offset).
    pub offset_msg_id: String,
    pub transaction_id: Option<String>,
}

/// Names of the system properties the send path writes, for readers of stored messages.
pub mod system_property {
    pub use crate::protocol::message::property::*;
}

/// Builds the user-visible message from a stored one (received by pull, query or check-back).
pub(crate) fn from_stored(
    stored: crate::protocol::message::StoredMessage,
    broker_name: &str,
    topic: String,
) -> Message {
    let props = stored.properties;
    // One pass over the properties (names are unique) rather than a lookup for each field.
    let (mut uniq_key, mut tag, mut key, mut start_deliver_time, mut sharding_key) = (None, None, None, None, None);
    let mut user_properties = BTreeMap::new();
    let mut trace_marks = TraceMarks::default();
    for (k, v) in props.iter_unordered() {
        match k {
            property::TRACE_ON => trace_marks.trace_off = v == "false",
            property::MSG_REGION => trace_marks.region = props.span_of(v),
            property::UNIQ_KEY => uniq_key = Some(v),
            property::TAGS => tag = Some(v.to_owned()),
            property::KEYS => key = Some(v.to_owned()),
            property::START_DELIVER_TIME => start_deliver_time = v.parse().ok(),
            property::SHARDING_KEY => sharding_key = Some(v.to_owned()),
            _ if is_system_property(k) => {}
            _ => {
                user_properties.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    let msg_id = uniq_key.map_or_else(|| stored.offset_msg_id.clone(), str::to_owned);
    Message {
        topic,
        tag,
        key,
        body: stored.body,
        user_properties,
        msg_id: Some(msg_id),
        reconsume_times: stored.reconsume_times,
        born_timestamp: Some(stored.born_timestamp),
        born_host: Some(stored.born_host),
        start_deliver_time,
        sharding_key,
        received: Some(ReceivedInfo {
            queue_id: stored.queue_id,
            queue_offset: stored.queue_offset,
            commit_log_offset: stored.commit_log_offset,
            store_timestamp: stored.store_timestamp,
            store_host: Some(stored.store_host),
            offset_msg_id: stored.offset_msg_id,
            broker_name: broker_name.to_owned(),
            properties: props,
            undecodable: None,
            trace_marks,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn now_ms_is_the_wall_clock_in_ms() {
        let std_ms = || {
            let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            i64::try_from(since.as_millis()).unwrap()
        };
        for _ in 0..1000 {
            let (before, now, after) = (std_ms(), now_ms(), std_ms());
            assert!(before <= now && now <= after, "{before} <= {now} <= {after}");
        }
    }

    #[test]
    fn blank_sharding_keys_are_refused() {
        for blank in ["", " ", "\t", " \t\n ", "\u{3000}"] {
            let e = validate_sharding_key(blank).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{blank:?}");
            assert!(e.message().starts_with("shardingKey") && e.message().contains("blank"), "{}", e.message());
        }
        for good in ["order-42", " padded ", "k"] {
            assert!(validate_sharding_key(good).is_ok(), "{good:?}");
        }
        assert!(validate_sharding_key("a\u{1}b").unwrap_err().message().contains("separator"));
        // On a message: blank is refused, empty stays "no sharding key".
        let mut msg = Message::new("T", None, b"x".to_vec());
        msg.sharding_key = Some("\t".into());
        assert!(msg.validate().unwrap_err().message().contains("shardingKey"));
        msg.sharding_key = Some(String::new());
        assert!(msg.validate().is_ok());
    }

    #[test]
    fn topic_rules() {
        assert!(validate_topic("Topic_A-1").is_ok());
        assert!(validate_topic(&"a".repeat(255)).is_ok());
        for bad in ["", "a b", "a%b", "topic!", "主题"] {
            let e = validate_topic(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
            assert!(e.message().contains("topic"));
        }
        assert!(validate_topic(&"a".repeat(256)).unwrap_err().message().contains("255"));
        // The error names the first character that is not allowed, multi-byte ones whole.
        assert!(validate_topic("ok_主题").unwrap_err().message().contains("'主'"));
        assert!(validate_topic("a.b").unwrap_err().message().contains("'.'"));
    }

    #[test]
    fn body_limits() {
        let empty = Message::new("T", None, Vec::new());
        assert!(empty.validate().unwrap_err().message().contains("empty"));
        let max = Message::new("T", None, vec![0u8; MAX_BODY_BYTES]);
        assert!(max.validate().is_ok());
        let over = Message::new("T", None, vec![0u8; MAX_BODY_BYTES + 1]);
        assert!(over.validate().unwrap_err().message().contains("4 MiB"));
    }

    #[test]
    fn reserved_and_malformed_user_properties_are_refused() {
        let mut m = Message::new("T", None, "x");
        assert!(m.put_user_property("TAGS", "x").is_err());
        assert!(m.put_user_property("UNIQ_KEY", "x").is_err());
        assert!(m.put_user_property("__STARTDELIVERTIME", "1").is_err());
        assert!(m.put_user_property("", "x").is_err());
        assert!(m.put_user_property("k", "").is_err());
        assert!(m.put_user_property("k", "a\u{1}b").is_err());
        m.put_user_property("订单", "值 with spaces").unwrap();
        assert_eq!(m.user_property("订单"), Some("值 with spaces"));
    }

    #[test]
    fn system_properties_are_the_reserved_set_the_ons_keys_and_transient_ones() {
        let listed = || RESERVED_PROPERTIES.into_iter().chain(ONS_SYSTEM_PROPERTIES);
        for name in listed() {
            assert!(is_system_property(name), "{name}");
            // A name one byte longer or shorter, or with another last byte, is one only if listed too.
            for near in
                [format!("{name}X"), name[..name.len() - 1].to_owned(), format!("{}\u{0}", &name[..name.len() - 1])]
            {
                assert_eq!(is_system_property(&near), listed().any(|n| n == near), "{near:?}");
            }
        }
        assert!(is_system_property("__RMQ.TRANSIENT.anything"));
        for user in ["", "k", "myKey", "tags", "订单", &"K".repeat(200)] {
            assert!(!is_system_property(user), "{user:?}");
        }
    }

    #[test]
    fn a_stored_message_becomes_fields_and_user_properties() {
        let properties: StoredProperties = [
            (property::UNIQ_KEY, "ID1"),
            (property::TAGS, "TagA"),
            (property::KEYS, "k1 k2"),
            (property::START_DELIVER_TIME, "1700000000000"),
            (property::SHARDING_KEY, "order-7"),
            (property::WAIT, "true"),
            (property::MIN_OFFSET, "0"),
            (property::MSG_REGION, "cn-hangzhou"),
            (property::TRACE_ON, "true"),
            ("__RMQ.TRANSIENT.x", "y"),
            ("color", "red"),
            ("订单", "值"),
        ]
        .into_iter()
        .collect();
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        let stored = crate::protocol::message::StoredMessage {
            store_size: 0,
            queue_id: 3,
            flag: 0,
            queue_offset: 42,
            commit_log_offset: 4200,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: host,
            store_timestamp: 2,
            store_host: host,
            reconsume_times: 1,
            prepared_transaction_offset: 0,
            body_crc: 0,
            body: Bytes::from_static(b"body"),
            topic: "T".into(),
            properties,
            offset_msg_id: "OFFSET_ID".into(),
        };
        let m = from_stored(stored.clone(), "broker-a", "T".into());
        assert_eq!(m.msg_id.as_deref(), Some("ID1"));
        assert_eq!((m.tag.as_deref(), m.key.as_deref()), (Some("TagA"), Some("k1 k2")));
        assert_eq!((m.start_deliver_time, m.sharding_key.as_deref()), (Some(1_700_000_000_000), Some("order-7")));
        let users: Vec<(&str, &str)> = m.user_properties().iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(users, [("color", "red"), ("订单", "值")]);
        let received = m.received.unwrap();
        assert_eq!(received.properties.len(), 12);
        assert_eq!((received.queue_offset, received.broker_name.as_str()), (42, "broker-a"));
        // What its trace records need is read in the same pass.
        assert!(!received.trace_marks.trace_off);
        assert_eq!(received.properties.at(received.trace_marks.region.clone().unwrap()), Some("cn-hangzhou"));
        let mut untraced = stored.clone();
        untraced.properties = [(property::TRACE_ON, "false")].into_iter().collect();
        let marks = from_stored(untraced, "broker-a", "T".into()).received.unwrap().trace_marks;
        assert_eq!(marks, TraceMarks { trace_off: true, region: None });
        // Without UNIQ_KEY the offset message id names the message; a deliver time that is
        // not a number is none.
        let mut bare = stored;
        bare.properties = [(property::START_DELIVER_TIME, "soon")].into_iter().collect();
        let m = from_stored(bare, "broker-a", "T".into());
        assert_eq!((m.msg_id.as_deref(), m.tag.as_deref(), m.start_deliver_time), (Some("OFFSET_ID"), None, None));
        assert!(m.user_properties().is_empty());
    }

    #[test]
    fn deliver_time_limit() {
        let mut m = Message::new("T", None, "x");
        m.start_deliver_time = Some(now_ms() + MAX_DELIVER_AHEAD_MS + 60_000);
        assert!(m.validate().unwrap_err().message().contains("40 days"));
        m.start_deliver_time = Some(now_ms() + 1000);
        assert!(m.validate().is_ok());
    }
}
