//! The one catalogue of configuration keys: every property name the client reads, each with
//! every spelling it honours, the member names the bindings expose it under, its type, default
//! and a one-line description. Lookups in [`Properties`](super::Properties) expand a name to all
//! spellings of its key, and unknown names are refused ([`check_known`]). The bindings' constant
//! lists (Python, Node, C, C++) and docs/configuration-keys.md are checked against this table.
//!
//! Spellings of other SDKs (see docs/configuration-keys.md for the sources):
//! - the ONS Java SDK's `PropertyKeyConst` fields, e.g. `MaxReconsumeTimes = "maxReconsumeTimes"`
//!   (apache/rocketmq-ons, `ons-api/.../PropertyKeyConst.java`);
//! - the ONS C++ SDK's `ONSFactoryProperty` members, e.g. `MaxMsgCacheSize = "MaxMsgCacheSize"`
//!   (apache/rocketmq-ons-cpp, `src/main/cpp/sdk/ONSFactory.cpp`).

use super::Properties;
use crate::error::{Error, Result};

/// What a value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    String,
    Int,
    Bool,
    /// One of these words (matched without regard to case).
    Enum(&'static [&'static str]),
}

impl ValueType {
    pub fn describe(self) -> String {
        match self {
            ValueType::String => "string".to_owned(),
            ValueType::Int => "int".to_owned(),
            ValueType::Bool => "bool".to_owned(),
            ValueType::Enum(words) => words.join(" \\| "),
        }
    }
}

/// Where a key comes from, which decides which bindings list it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A field of the ONS Java SDK's `PropertyKeyConst`: every binding lists it.
    OnsJava,
    /// Only the ONS C++ SDK's `ONSFactoryProperty` has it: only the C++ header lists it.
    OnsCpp,
    /// This client's own (some taken from the Apache Java client): every binding lists it.
    Client,
}

/// One configuration key.
#[derive(Debug)]
pub struct Key {
    /// The name error messages use; the `keys::*` constant of the same value.
    pub name: &'static str,
    /// Other spellings honoured (the ONS Java value, the C++ SDK's, deprecated names, ...).
    pub aliases: &'static [&'static str],
    /// The member name in the bindings' `PropertyKeyConst` (the Java field name where Java has
    /// one) and the spelling that member holds (Java's value where Java has one).
    pub member: &'static str,
    pub value: &'static str,
    /// Deprecated Java fields that are aliases of this key: (member = value, Python keyword).
    pub deprecated_members: &'static [(&'static str, &'static str)],
    /// The ONS C++ SDK's `ONSFactoryProperty` members for this key: (member, value).
    pub cpp: &'static [(&'static str, &'static str)],
    /// The Python keyword argument (snake case).
    pub snake: &'static str,
    pub value_type: ValueType,
    /// The default, as text ("" when there is none).
    pub default: &'static str,
    pub origin: Origin,
    /// False for keys accepted for compatibility that change nothing in this client.
    pub honoured: bool,
    pub doc: &'static str,
}

impl Key {
    /// The canonical name, then every alias.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// Lets keys be passed through that the table does not know (`true`); see [`check_known`].
pub const ALLOW_UNKNOWN_PROPERTIES: &str = "AllowUnknownProperties";

const NONE: &[&str] = &[];
const NO_MEMBERS: &[(&str, &str)] = &[];

macro_rules! key {
    ($name:expr, $snake:expr, $ty:expr, $default:expr, $origin:ident, $doc:expr
     $(, aliases = $aliases:expr)? $(, member = $member:expr)? $(, value = $value:expr)?
     $(, deprecated = $deprecated:expr)? $(, cpp = $cpp:expr)? $(, honoured = $honoured:expr)?) => {
        Key {
            name: $name,
            aliases: { let _a: &[&str] = NONE; $(let _a: &[&str] = $aliases;)? _a },
            member: { let _m: &str = $name; $(let _m: &str = $member;)? _m },
            value: { let _v: &str = $name; $(let _v: &str = $value;)? _v },
            deprecated_members: { let _d: &[(&str, &str)] = NO_MEMBERS; $(let _d: &[(&str, &str)] = $deprecated;)? _d },
            cpp: { let _c: &[(&str, &str)] = NO_MEMBERS; $(let _c: &[(&str, &str)] = $cpp;)? _c },
            snake: $snake,
            value_type: $ty,
            default: $default,
            origin: Origin::$origin,
            honoured: { let _h = true; $(let _h = $honoured;)? _h },
            doc: $doc,
        }
    };
}

use ValueType::{Bool, Int, String as Str};

/// Every key, in the order of the docs and the bindings.
pub static CATALOGUE: &[Key] =
    &[
        key!(
            "NAMESRV_ADDR",
            "namesrv_addr",
            Str,
            "",
            OnsJava,
            "Name servers, `;`-separated `host:port` (an `http://host:port` endpoint is used as plain TCP), or an address-server URL with a path, polled for them (`ONSAddr`; NAMESRV_ADDR wins when both are set). Required.",
            aliases = &["ONSAddr"],
            deprecated = &[("ONSAddr", "ons_addr")],
            cpp = &[("NAMESRV_ADDR", "NAMESRV_ADDR"), ("ONSAddr", "ONSAddr")]
        ),
        key!(
            "GROUP_ID",
            "group_id",
            Str,
            "",
            OnsJava,
            "The producer or consumer group. Required (tools without a group use `DEFAULT_PRODUCER`).",
            aliases = &["GroupId", "ProducerId", "ConsumerId"],
            deprecated = &[("ProducerId", "producer_id"), ("ConsumerId", "consumer_id")],
            cpp = &[("GroupId", "GroupId"), ("ProducerId", "ProducerId"), ("ConsumerId", "ConsumerId")]
        ),
        key!(
            "AccessKey",
            "access_key",
            Str,
            "",
            OnsJava,
            "ACL access key; requires SecretKey.",
            cpp = &[("AccessKey", "AccessKey")]
        ),
        key!(
            "SecretKey",
            "secret_key",
            Str,
            "",
            OnsJava,
            "ACL secret key; never logged.",
            cpp = &[("SecretKey", "SecretKey")]
        ),
        key!("SecurityToken", "security_token", Str, "", OnsJava, "STS security token sent with AccessKey."),
        key!(
            "OnsChannel",
            "ons_channel",
            Str,
            "ALIYUN",
            OnsJava,
            "Signed requests carry it as the `OnsChannel` ext field, as the ONS Java SDK's do: `CLOUD`, `ALIYUN`, `ALL` (`LOCAL`, `INNER`).",
            cpp = &[("OnsChannel", "OnsChannel")]
        ),
        key!(
            "INSTANCE_ID",
            "instance_id",
            Str,
            "",
            OnsJava,
            "Namespace (instance id) prefixed to topics and groups; default: from an `MQ_INST_` endpoint.",
            aliases = &["InstanceId"],
            cpp = &[("InstanceId", "InstanceId")]
        ),
        key!("Namespace", "namespace", Str, "", Client, "Same as INSTANCE_ID (which wins when both are set)."),
        key!(
            "InstanceName",
            "instance_name",
            Str,
            "DEFAULT",
            OnsJava,
            "Client instance name; clients with the same name share connections.",
            aliases = &["ConsumerInstanceName"],
            cpp = &[("ConsumerInstanceName", "ConsumerInstanceName")]
        ),
        key!(
            "MessageModel",
            "message_model",
            ValueType::Enum(&["CLUSTERING", "BROADCASTING"]),
            "CLUSTERING",
            OnsJava,
            "Consumers: share the queues of the group, or every consumer gets every message.",
            cpp = &[("MessageModel", "MessageModel")]
        ),
        key!(
            "SendMsgTimeoutMillis",
            "send_msg_timeout_millis",
            Int,
            "3000",
            OnsJava,
            "Send timeout in milliseconds, [1, 3600000].",
            cpp = &[("SendMsgTimeoutMillis", "SendMsgTimeoutMillis")]
        ),
        key!(
            "SendMsgRetryTimes",
            "send_msg_retry_times",
            Int,
            "2",
            Client,
            "Attempts after the first for a failed synchronous send, [0, 16].",
            cpp = &[("SendMsgRetryTimes", "SendMsgRetryTimes")]
        ),
        key!(
            "ConsumeThreadNums",
            "consume_thread_nums",
            Int,
            "64",
            OnsJava,
            "Listener calls running at once per consumer, [1, 1000].",
            cpp = &[("ConsumeThreadNums", "ConsumeThreadNums")]
        ),
        key!("MaxReconsumeTimes", "max_reconsume_times", Int, "16", OnsJava,
        "Deliveries after the first before the dead-letter queue, [-1, 100000]; -1 or unset: 16 (orderly: unbounded).",
        aliases = &["maxReconsumeTimes"], value = "maxReconsumeTimes"),
        key!(
            "ConsumeTimeout",
            "consume_timeout",
            Int,
            "15",
            OnsJava,
            "Minutes a listener call may take before the message is redelivered, [1, 1440].",
            aliases = &["consumeTimeout"],
            value = "consumeTimeout"
        ),
        key!(
            "ConsumeMessageBatchMaxSize",
            "consume_message_batch_max_size",
            Int,
            "1",
            OnsJava,
            "Batch consumers: at most this many messages per call, [1, 32]."
        ),
        key!(
            "CheckImmunityTimeInSeconds",
            "check_immunity_time_in_seconds",
            Int,
            "",
            OnsJava,
            "Transactions: seconds before the first check-back, [0, 86400]; default: the broker's.",
            aliases = &["CheckImmunityTimeInSecs"]
        ),
        key!(
            "suspendTimeMillis",
            "suspend_time_millis",
            Int,
            "3000",
            OnsJava,
            "Orderly consumers: milliseconds before a suspended message is delivered again, [10, 30000].",
            aliases = &["SuspendTimeMillis"],
            member = "SuspendTimeMillis",
            cpp = &[("SuspendTimeMillis", "SuspendTimeMillis")]
        ),
        key!(
            "MaxCachedMessageAmount",
            "max_cached_message_amount",
            Int,
            "5000",
            OnsJava,
            "Consumers: messages cached ahead of the listeners, [100, 50000].",
            aliases = &["maxCachedMessageAmount", "MaxMsgCacheSize"],
            value = "maxCachedMessageAmount",
            cpp = &[("MaxMsgCacheSize", "MaxMsgCacheSize")]
        ),
        key!(
            "MaxCachedMessageSizeInMiB",
            "max_cached_message_size_in_mib",
            Int,
            "512",
            OnsJava,
            "Consumers: MiB of message bodies cached ahead of the listeners, [16, 2048].",
            aliases = &["maxCachedMessageSizeInMiB"],
            value = "maxCachedMessageSizeInMiB",
            cpp = &[("MaxCachedMessageSizeInMiB", "MaxCachedMessageSizeInMiB")]
        ),
        key!(
            "maxBatchMessageCount",
            "max_batch_message_count",
            Int,
            "32",
            OnsJava,
            "Consumers: messages asked of a broker per pull (Java's pullBatchSize), [1, 1024]; for a pull consumer also the most one `poll` returns.",
            member = "MAX_BATCH_MESSAGE_COUNT"
        ),
        key!(
            "batchConsumeMaxAwaitDurationInSeconds",
            "batch_consume_max_await_duration_in_seconds",
            Int,
            "0",
            OnsJava,
            "Batch consumers: seconds a batch not yet of ConsumeMessageBatchMaxSize waits for more messages of its queue before the listener gets it, [0, half of ConsumeTimeout]; 0: no wait.",
            member = "BatchConsumeMaxAwaitDurationInSeconds"
        ),
        key!(
            "ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME",
            "allocate_message_queue_strategy_name",
            ValueType::Enum(&["AVG", "AVG_BY_CIRCLE"]),
            "AVG",
            OnsJava,
            "Clustering consumers: how a group splits its queues, in contiguous ranges (AVG) or round robin (AVG_BY_CIRCLE), as Java's AllocateMessageQueueAveragely and AllocateMessageQueueAveragelyByCircle.",
            aliases = &["AVG_BY_CIRCLE"]
        ),
        key!(
            "isVipChannelEnabled",
            "is_vip_channel_enabled",
            Bool,
            "false",
            OnsJava,
            "The VIP channel (broker port - 2) is a 4.x broker option this client does not use.",
            honoured = false
        ),
        key!(
            "MsgTraceSwitch",
            "msg_trace_switch",
            Bool,
            "true",
            OnsJava,
            "Producers and consumers write message traces (Pub, SubBefore, SubAfter, EndTransaction) in the Apache Java client's format to RMQ_SYS_TRACE_TOPIC (or AccessChannel's), asynchronously; false turns them off (docs/traces.md).",
            aliases = &["OnsTraceSwitch"],
            cpp = &[("OnsTraceSwitch", "OnsTraceSwitch")]
        ),
        key!(
            "RamRoleName",
            "ram_role_name",
            Str,
            "",
            OnsJava,
            "ECS RAM-role credentials are not fetched; pass the role's STS keys as AccessKey, SecretKey and SecurityToken.",
            member = "RAM_ROLE_NAME",
            honoured = false
        ),
        key!(
            "MQType",
            "mq_type",
            Str,
            "",
            OnsJava,
            "Picks the ONS Java SDK's internal implementation (METAQ, NOTIFY); this client has one, RocketMQ remoting.",
            honoured = false
        ),
        key!(
            "PostSubscriptionWhenPull",
            "post_subscription_when_pull",
            Bool,
            "",
            OnsJava,
            "Every pull already carries the subscription (what Java's `true` does), so there is nothing to switch.",
            honoured = false
        ),
        key!(
            "MsgTraceSelectQueueEnable",
            "msg_trace_select_queue_enable",
            Bool,
            "",
            OnsJava,
            "Trace messages go round robin over the trace topic's writable queues; there is no queue selection to switch (see MsgTraceSwitch).",
            honoured = false
        ),
        key!(
            "mqttMessageId",
            "mqtt_message_id",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttMessageId",
            honoured = false
        ),
        key!(
            "mqttMessage",
            "mqtt_message",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttMessage",
            honoured = false
        ),
        key!(
            "mqttRetain",
            "mqtt_publish_retain",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttPublishRetain",
            honoured = false
        ),
        key!(
            "mqttPublishDubFlag",
            "mqtt_publish_dub_flag",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttPublishDubFlag",
            honoured = false
        ),
        key!(
            "mqttSecondTopic",
            "mqtt_second_topic",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttSecondTopic",
            honoured = false
        ),
        key!(
            "clientId",
            "mqtt_client_id",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttClientId",
            honoured = false
        ),
        key!(
            "qoslevel",
            "mqtt_qos",
            Str,
            "",
            OnsJava,
            "A message user property of the ONS MQTT bridge, not a client key; set it on the message as a user property (`Message::put_user_property`).",
            member = "MqttQOS",
            honoured = false
        ),
        key!(
            "exactlyOnceDelivery",
            "exactly_once_delivery",
            Bool,
            "",
            OnsJava,
            "The ONS exactly-once consumer (a resource manager in the application's database) is not in this client.",
            member = "EXACTLYONCE_DELIVERY",
            honoured = false
        ),
        key!(
            "exactlyOnceRmRefreshInterval",
            "exactly_once_rm_refresh_interval",
            Int,
            "",
            OnsJava,
            "The ONS exactly-once consumer (a resource manager in the application's database) is not in this client.",
            member = "EXACTLYONCE_RM_REFRESHINTERVAL",
            honoured = false
        ),
        key!(
            "enableOrderlyConsumeAccelerator",
            "enable_orderly_consume_accelerator",
            Bool,
            "",
            OnsJava,
            "ONS Java's parallel orderly consumption by sharding key within a queue is not implemented; a queue is consumed in order, one message at a time.",
            member = "ENABLE_ORDERLY_CONSUME_ACCELERATOR",
            honoured = false
        ),
        key!(
            "autoCommit",
            "auto_commit",
            Bool,
            "true",
            OnsJava,
            "Pull consumers: `poll` commits, every autoCommitIntervalMillis, the offsets after what earlier polls returned (and shutdown and a queue given up commit them too); `false` leaves committing to `commit_sync`.",
            member = "AUTO_COMMIT"
        ),
        key!(
            "autoCommitIntervalMillis",
            "auto_commit_interval_millis",
            Int,
            "5000",
            OnsJava,
            "Pull consumers with autoCommit: the least time between two automatic commits, [1000, 86400000] ms.",
            member = "AUTO_COMMIT_INTERVAL_MILLIS"
        ),
        key!(
            "pollTimeoutMillis",
            "poll_timeout_millis",
            Int,
            "5000",
            OnsJava,
            "Pull consumers: how long `poll_default` waits for messages, [1, 86400000] ms.",
            member = "POLL_TIMEOUT_MILLIS"
        ),
        key!(
            "shardingKey",
            "sharding_key",
            Str,
            "",
            Client,
            "A message property, not a client key; pass it to `OrderProducer::send` or set the message's `sharding_key` field.",
            honoured = false
        ),
        key!(
            "HeaderFormat",
            "header_format",
            ValueType::Enum(&["JSON", "ROCKETMQ"]),
            "JSON",
            Client,
            "Request header encoding (`BINARY` is accepted for `ROCKETMQ`)."
        ),
        key!(
            "CompressMsgBodyOverHowmuch",
            "compress_msg_body_over_howmuch",
            Int,
            "4096",
            Client,
            "Producers: compress bodies at least this many bytes long."
        ),
        key!(
            "CompressType",
            "compress_type",
            ValueType::Enum(&["ZLIB", "LZ4", "ZSTD"]),
            "ZLIB",
            Client,
            "Producers: how large bodies are compressed (consumers decode all three).",
            aliases = &["compressType", "rocketmq.message.compressType"]
        ),
        key!(
            "CompressLevel",
            "compress_level",
            Int,
            "5",
            Client,
            "Producers: compression level (zlib 0..=9, ZSTD 1..=22, ignored by LZ4).",
            aliases = &["compressLevel", "rocketmq.message.compressLevel"]
        ),
        key!(
            "LanguageAsJava",
            "language_as_java",
            Bool,
            "false",
            Client,
            "`true`: every request announces language `JAVA` instead of `RUST` (for servers and ACL rules that expect Java clients)."
        ),
        key!(
            "traceTopicName",
            "trace_topic_name",
            Str,
            "RMQ_SYS_TRACE_TOPIC",
            Client,
            "The topic message traces go to (MsgTraceSwitch), as `TRACE_TOPIC_NAME` of Apache RocketMQ's OpenMessaging ONS API and Java's `customizedTraceTopic`; `mqadmin queryMsgTraceById -t` reads it.",
            member = "TRACE_TOPIC_NAME"
        ),
        key!(
            "AccessChannel",
            "access_channel",
            ValueType::Enum(&["LOCAL", "CLOUD"]),
            "LOCAL",
            Client,
            "Where message traces go, as the Apache Java client's `accessChannel`: `LOCAL` to traceTopicName; `CLOUD` (Alibaba Cloud) to `rmq_sys_TRACE_DATA_<region>` of each record's broker region, SubAfter records in the cloud form (docs/traces.md).",
            aliases = &["accessChannel"]
        ),
        key!(
            "ConsumeFromWhere",
            "consume_from_where",
            ValueType::Enum(&["CONSUME_FROM_LAST_OFFSET", "CONSUME_FROM_FIRST_OFFSET", "CONSUME_FROM_TIMESTAMP"]),
            "CONSUME_FROM_LAST_OFFSET",
            Client,
            "Where a new consumer group starts (also `LAST`, `FIRST`, `TIMESTAMP`)."
        ),
        key!(
            "ConsumeTimestamp",
            "consume_timestamp",
            Str,
            "30 minutes ago",
            Client,
            "Start of CONSUME_FROM_TIMESTAMP: epoch milliseconds or `yyyyMMddHHmmss` (UTC)."
        ),
        key!(
            "OffsetStoreDir",
            "offset_store_dir",
            Str,
            "$HOME/.rocketmq_offsets",
            Client,
            "Broadcasting consumers: directory of the local offset files."
        ),
        key!(
            "TlsEnable",
            "tls_enable",
            Bool,
            "false",
            Client,
            "TLS to name servers and brokers, trusting the system roots (implied by the next two)."
        ),
        key!(
            "TlsCaFile",
            "tls_ca_file",
            Str,
            "",
            Client,
            "PEM file of CA certificates that server certificates must chain to (TLS on)."
        ),
        key!(
            "TlsInsecureSkipVerify",
            "tls_insecure_skip_verify",
            Bool,
            "false",
            Client,
            "TLS without verifying server certificates (tests or trusted networks only)."
        ),
        key!(
            "TlsServerName",
            "tls_server_name",
            Str,
            "",
            Client,
            "Name server certificates are checked against, instead of each address's host."
        ),
        key!(
            ALLOW_UNKNOWN_PROPERTIES,
            "allow_unknown_properties",
            Bool,
            "false",
            Client,
            "`true`: property names this table does not know are passed through instead of refused."
        ),
        key!(
            "LogPath",
            "log_path",
            Str,
            "",
            OnsCpp,
            "The ONS C++ SDK's log directory; this client logs through `tracing` or the binding's logging (see README).",
            cpp = &[("LogPath", "LogPath")],
            honoured = false
        ),
        key!(
            "PublishTopics",
            "publish_topics",
            Str,
            "",
            OnsCpp,
            "An ONS C++ SDK setting, accepted for compatibility.",
            cpp = &[("PublishTopics", "PublishTopics")],
            honoured = false
        ),
        key!(
            "MsgContent",
            "msg_content",
            Str,
            "",
            OnsCpp,
            "An ONS C++ SDK setting, accepted for compatibility.",
            cpp = &[("MsgContent", "MsgContent")],
            honoured = false
        ),
    ];

/// The key a name (canonical or alias) belongs to.
pub fn find(name: &str) -> Option<&'static Key> {
    CATALOGUE.iter().find(|k| k.names().any(|n| n == name))
}

/// A constant a binding exposes: `member` holds `value`; `snake` is Python's keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Constant {
    pub member: &'static str,
    pub value: &'static str,
    pub snake: &'static str,
}

/// The `PropertyKeyConst` members of the Python and Node bindings: one per key (the ONS C++
/// SDK's own keys excepted), plus the deprecated Java fields, in catalogue order.
pub fn binding_constants() -> Vec<Constant> {
    let mut out = Vec::new();
    for key in CATALOGUE.iter().filter(|k| k.origin != Origin::OnsCpp) {
        out.push(Constant { member: key.member, value: key.value, snake: key.snake });
        for (member, snake) in key.deprecated_members {
            out.push(Constant { member, value: member, snake });
        }
    }
    out
}

/// The C header's `ONS_PROPERTY_*` defines: (macro name, value), one per key listed by every
/// binding.
pub fn c_defines() -> Vec<(String, &'static str)> {
    CATALOGUE
        .iter()
        .filter(|k| k.origin != Origin::OnsCpp)
        .map(|k| (format!("ONS_PROPERTY_{}", k.snake.to_ascii_uppercase()), k.value))
        .collect()
}

/// The C++ header's `ONSFactoryProperty` members: the ONS C++ SDK's members and values where
/// that SDK has the key, otherwise the member every binding has.
pub fn cpp_constants() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for key in CATALOGUE {
        if key.cpp.is_empty() {
            out.push((key.member, key.value));
        } else {
            out.extend(key.cpp.iter().copied());
        }
    }
    out
}

/// Fails on the first property name no key has, naming the closest known spelling, unless
/// `AllowUnknownProperties` is `true`.
pub fn check_known(props: &Properties) -> Result<()> {
    if props.parse_bool(ALLOW_UNKNOWN_PROPERTIES)?.unwrap_or(false) {
        return Ok(());
    }
    let mut names: Vec<&str> = props.iter().map(|(k, _)| k).collect();
    names.sort_unstable();
    match names.into_iter().find(|n| find(n).is_none()) {
        None => Ok(()),
        Some(unknown) => Err(Error::invalid_config(format!(
            "unknown property '{unknown}' (did you mean '{}'?); set {ALLOW_UNKNOWN_PROPERTIES}=true to pass \
             unknown names through",
            closest(unknown)
        ))),
    }
}

/// The known spelling nearest to `name` (edit distance ignoring case, then with case; the
/// first on a tie).
pub fn closest(name: &str) -> &'static str {
    nearest(name, CATALOGUE.iter().flat_map(Key::names)).unwrap_or(CATALOGUE[0].name)
}

/// The candidate nearest to `name`, as [`closest`] measures it (bindings use it for their own
/// spellings, such as Python's keywords).
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .min_by_key(|candidate| (edit_distance(&lower, &candidate.to_lowercase()), edit_distance(name, candidate)))
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The table of docs/configuration-keys.md (between its `catalogue` markers).
pub fn markdown_table() -> String {
    let code = |s: &str| format!("`{s}`");
    let mut out = String::from(
        "| Key | Also accepted | `PropertyKeyConst` member = value | Python keyword | Type | Default | Origin | Description |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for key in CATALOGUE {
        let aliases: Vec<String> = key.aliases.iter().map(|a| code(a)).collect();
        let member = match key.origin {
            Origin::OnsCpp => "(C++ only)".to_owned(),
            _ => format!("`{}` = `\"{}\"`", key.member, key.value),
        };
        let origin = match key.origin {
            Origin::OnsJava => "ONS Java",
            Origin::OnsCpp => "ONS C++",
            Origin::Client => "this client",
        };
        let default = if key.default.is_empty() { "—".to_owned() } else { code(key.default) };
        out.push_str(&format!(
            "| {} | {} | {} | `{}` | {} | {} | {} | {}{} |\n",
            code(key.name),
            if aliases.is_empty() { "—".to_owned() } else { aliases.join(", ") },
            member,
            key.snake,
            key.value_type.describe(),
            default,
            origin,
            if key.honoured { "" } else { "*(no effect)* " },
            key.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys;
    use crate::error::ErrorKind;
    use std::collections::{BTreeSet, HashSet};
    use std::path::PathBuf;

    fn repo_file(path: &str) -> String {
        let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
    }

    #[test]
    fn names_are_unique_and_members_are_spellings_of_their_key() {
        let mut seen = HashSet::new();
        for key in CATALOGUE {
            for name in key.names() {
                assert!(seen.insert(name), "{name} is listed twice");
            }
            let names: Vec<_> = key.names().collect();
            assert!(names.contains(&key.value), "{}: value {} is not one of its names", key.name, key.value);
            for (member, value) in key.cpp {
                assert!(names.contains(value), "{}: C++ {member} = {value} is not one of its names", key.name);
            }
            for (member, _) in key.deprecated_members {
                assert!(names.contains(member), "{}: {member} is not one of its names", key.name);
            }
            assert!(key.snake.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
        let snakes: HashSet<_> = binding_constants().iter().map(|c| c.snake).collect();
        assert_eq!(snakes.len(), binding_constants().len(), "two members share a Python keyword");
    }

    #[test]
    fn every_keys_constant_is_in_the_table() {
        for k in [
            keys::ACCESS_KEY,
            keys::SECRET_KEY,
            keys::SECURITY_TOKEN,
            keys::ONS_CHANNEL,
            keys::NAMESRV_ADDR,
            keys::ONS_ADDR,
            keys::GROUP_ID,
            keys::PRODUCER_ID,
            keys::CONSUMER_ID,
            keys::GROUP_ID_CAMEL,
            keys::MESSAGE_MODEL,
            keys::CONSUME_THREAD_NUMS,
            keys::MAX_RECONSUME_TIMES,
            keys::MAX_RECONSUME_TIMES_JAVA,
            keys::CONSUME_TIMEOUT,
            keys::CONSUME_TIMEOUT_JAVA,
            keys::CONSUME_MESSAGE_BATCH_MAX_SIZE,
            keys::CHECK_IMMUNITY_TIME_IN_SECONDS,
            keys::CHECK_IMMUNITY_TIME_IN_SECS,
            keys::SUSPEND_TIME_MILLIS,
            keys::SUSPEND_TIME_MILLIS_CPP,
            keys::SEND_MSG_TIMEOUT_MILLIS,
            keys::MAX_CACHED_MESSAGE_AMOUNT,
            keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB,
            keys::MAX_BATCH_MESSAGE_COUNT,
            keys::BATCH_CONSUME_MAX_AWAIT_DURATION_IN_SECONDS,
            keys::AUTO_COMMIT,
            keys::AUTO_COMMIT_INTERVAL_MILLIS,
            keys::POLL_TIMEOUT_MILLIS,
            keys::ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME,
            keys::ALLOCATE_MESSAGE_QUEUE_STRATEGY_ONS,
            keys::INSTANCE_NAME,
            keys::CONSUMER_INSTANCE_NAME_CPP,
            keys::INSTANCE_ID,
            keys::NAMESPACE,
            keys::VIP_CHANNEL_ENABLED,
            keys::MSG_TRACE_SWITCH,
            keys::SEND_MSG_RETRY_TIMES,
            keys::HEADER_FORMAT,
            keys::COMPRESS_OVER_BYTES,
            keys::COMPRESS_TYPE,
            keys::COMPRESS_TYPE_JAVA,
            keys::COMPRESS_TYPE_SYSTEM_PROPERTY,
            keys::COMPRESS_LEVEL,
            keys::COMPRESS_LEVEL_JAVA,
            keys::COMPRESS_LEVEL_SYSTEM_PROPERTY,
            keys::LANGUAGE_AS_JAVA,
            keys::TRACE_TOPIC_NAME,
            keys::ACCESS_CHANNEL,
            keys::MAX_CACHED_MESSAGE_AMOUNT_ONS,
            keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB_ONS,
            keys::MAX_MSG_CACHE_SIZE_CPP,
            keys::CONSUME_FROM_WHERE,
            keys::CONSUME_TIMESTAMP,
            keys::OFFSET_STORE_DIR,
            keys::TLS_ENABLE,
            keys::TLS_CA_FILE,
            keys::TLS_INSECURE_SKIP_VERIFY,
            keys::TLS_SERVER_NAME,
            keys::ALLOW_UNKNOWN_PROPERTIES,
        ] {
            assert!(find(k).is_some(), "keys constant {k:?} is not in the catalogue");
        }
    }

    /// The value of every `static final String` field of the ONS Java SDK's
    /// `com.aliyun.openservices.ons.api.PropertyKeyConst`, as `javap -constants` prints them for
    /// ons-client 1.8.8.8.Final (Maven Central), in its order.
    const ONS_JAVA_PROPERTY_KEY_CONST: &[(&str, &str)] = &[
        ("MessageModel", "MessageModel"),
        ("ProducerId", "ProducerId"),
        ("ConsumerId", "ConsumerId"),
        ("GROUP_ID", "GROUP_ID"),
        ("AccessKey", "AccessKey"),
        ("SecretKey", "SecretKey"),
        ("SecurityToken", "SecurityToken"),
        ("RAM_ROLE_NAME", "RamRoleName"),
        ("SendMsgTimeoutMillis", "SendMsgTimeoutMillis"),
        ("ONSAddr", "ONSAddr"),
        ("NAMESRV_ADDR", "NAMESRV_ADDR"),
        ("ConsumeThreadNums", "ConsumeThreadNums"),
        ("OnsChannel", "OnsChannel"),
        ("MQType", "MQType"),
        ("isVipChannelEnabled", "isVipChannelEnabled"),
        ("SuspendTimeMillis", "suspendTimeMillis"),
        ("MaxReconsumeTimes", "maxReconsumeTimes"),
        ("ConsumeTimeout", "consumeTimeout"),
        ("BatchConsumeMaxAwaitDurationInSeconds", "batchConsumeMaxAwaitDurationInSeconds"),
        ("CheckImmunityTimeInSeconds", "CheckImmunityTimeInSeconds"),
        ("PostSubscriptionWhenPull", "PostSubscriptionWhenPull"),
        ("ConsumeMessageBatchMaxSize", "ConsumeMessageBatchMaxSize"),
        ("MaxCachedMessageAmount", "maxCachedMessageAmount"),
        ("MaxCachedMessageSizeInMiB", "maxCachedMessageSizeInMiB"),
        ("InstanceName", "InstanceName"),
        ("MsgTraceSwitch", "MsgTraceSwitch"),
        ("MsgTraceSelectQueueEnable", "MsgTraceSelectQueueEnable"),
        ("MqttMessageId", "mqttMessageId"),
        ("MqttMessage", "mqttMessage"),
        ("MqttPublishRetain", "mqttRetain"),
        ("MqttPublishDubFlag", "mqttPublishDubFlag"),
        ("MqttSecondTopic", "mqttSecondTopic"),
        ("MqttClientId", "clientId"),
        ("MqttQOS", "qoslevel"),
        ("INSTANCE_ID", "INSTANCE_ID"),
        ("EXACTLYONCE_DELIVERY", "exactlyOnceDelivery"),
        ("EXACTLYONCE_RM_REFRESHINTERVAL", "exactlyOnceRmRefreshInterval"),
        ("MAX_BATCH_MESSAGE_COUNT", "maxBatchMessageCount"),
        ("ENABLE_ORDERLY_CONSUME_ACCELERATOR", "enableOrderlyConsumeAccelerator"),
        ("ALLOCATE_MESSAGE_QUEUE_STRATEGY", "AVG_BY_CIRCLE"),
        ("ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME", "ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME"),
        ("AUTO_COMMIT", "autoCommit"),
        ("AUTO_COMMIT_INTERVAL_MILLIS", "autoCommitIntervalMillis"),
        ("POLL_TIMEOUT_MILLIS", "pollTimeoutMillis"),
    ];

    #[test]
    fn every_ons_java_property_key_const_value_is_accepted() {
        assert_eq!(ONS_JAVA_PROPERTY_KEY_CONST.len(), 44, "javap lists 44 fields");
        let mut checked = 0;
        for (field, value) in ONS_JAVA_PROPERTY_KEY_CONST {
            let props = Properties::new().with(*value, "1");
            check_known(&props).unwrap_or_else(|e| panic!("PropertyKeyConst.{field} = {value:?}: {e}"));
            let key = find(value).unwrap();
            // The one field that is no key's name: its value, "AVG_BY_CIRCLE", is a value of
            // ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME that the SDK also reads as a property name.
            assert!(
                *field == "ALLOCATE_MESSAGE_QUEUE_STRATEGY"
                    || key.member == *field
                    || key.deprecated_members.iter().any(|(m, _)| m == field)
                    || key.aliases.contains(field),
                "PropertyKeyConst.{field} is not a member or alias of {}",
                key.name
            );
            checked += 1;
        }
        assert_eq!(checked, 44);
    }

    #[test]
    fn unknown_names_are_refused_with_the_closest_known_one() {
        let p = Properties::new().with("NAMESRV_ADDR", "a:1").with("SendMsgTimeoutMilis", "100");
        let err = check_known(&p).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(
            err.message().starts_with("unknown property 'SendMsgTimeoutMilis' (did you mean 'SendMsgTimeoutMillis'?)"),
            "{err}"
        );
        assert_eq!(closest("maxReconsumeTime"), "maxReconsumeTimes");
        assert_eq!(closest("namesrv_addr"), "NAMESRV_ADDR");
        // Every alias is known; the escape hatch lets anything through.
        let every: Properties = CATALOGUE.iter().flat_map(Key::names).map(|n| (n, "x")).collect();
        check_known(&every.clone().with(ALLOW_UNKNOWN_PROPERTIES, "false")).unwrap();
        check_known(&p.clone().with(ALLOW_UNKNOWN_PROPERTIES, "true")).unwrap();
        assert!(check_known(&p.with(ALLOW_UNKNOWN_PROPERTIES, "yes")).is_err());
    }

    /// Members of `class PropertyKeyConst:` in the Python stub (values live in the core).
    #[test]
    fn python_stub_lists_the_binding_constants() {
        let stub = repo_file("py/python/rocketmq_ons/_native.pyi");
        let body = stub.split("class PropertyKeyConst:\n").nth(1).expect("no class PropertyKeyConst");
        let listed: Vec<&str> = body
            .lines()
            .take_while(|l| l.starts_with("    "))
            .filter_map(|l| l.trim().strip_suffix(": ClassVar[str]"))
            .collect();
        let expected: Vec<&str> = binding_constants().iter().map(|c| c.member).collect();
        assert_eq!(listed, expected, "py/python/rocketmq_ons/_native.pyi PropertyKeyConst");
    }

    #[test]
    fn node_typings_list_the_binding_constants() {
        let dts = repo_file("node/index.d.ts");
        let body = dts.split("export declare enum PropertyKeyConst {\n").nth(1).expect("no enum PropertyKeyConst");
        let listed: Vec<(&str, &str)> = body
            .lines()
            .take_while(|l| *l != "}")
            .filter_map(|l| l.trim().strip_suffix("',"))
            .filter_map(|l| l.split_once(" = '"))
            .collect();
        let expected: Vec<(&str, &str)> = binding_constants().iter().map(|c| (c.member, c.value)).collect();
        assert_eq!(listed, expected, "node/index.d.ts PropertyKeyConst");
    }

    fn c_header_defines() -> Vec<(String, String)> {
        repo_file("include/rocketmq_ons.h")
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .filter(|l| l.starts_with("ONS_PROPERTY_"))
            .filter_map(|l| l.split_once(' '))
            .map(|(name, value)| (name.to_owned(), value.trim_matches('"').to_owned()))
            .collect()
    }

    #[test]
    fn c_header_defines_the_table() {
        let expected: Vec<(String, String)> = c_defines().into_iter().map(|(n, v)| (n, v.to_owned())).collect();
        assert_eq!(c_header_defines(), expected, "ONS_PROPERTY_* in ffi-c/cbindgen.toml (then regenerate the header)");
    }

    #[test]
    fn cpp_header_members_are_the_table() {
        let defines: std::collections::HashMap<String, String> = c_header_defines().into_iter().collect();
        let header = repo_file("include/ons/ONSFactory.h");
        // `template <typename U> const char* const PropertyKeys<U>::Member = VALUE;`, where a
        // line break may follow `template <typename U>`.
        let joined = header.replace("template <typename U>\nconst", "template <typename U> const");
        let mut listed = BTreeSet::new();
        // The message-model values (ONS_BROADCASTING, ONS_CLUSTERING) share the struct.
        let value_lines = |l: &&str| {
            l.contains("PropertyKeys<U>::") && !l.contains(" = ONS_BROADCASTING;") && !l.contains(" = ONS_CLUSTERING;")
        };
        for line in joined.lines().filter(value_lines) {
            let rest = line.split("PropertyKeys<U>::").nth(1).unwrap();
            let (member, value) = rest.trim_end_matches(';').split_once(" = ").expect(line);
            let value = match value.strip_prefix('"') {
                Some(v) => v.trim_end_matches('"').to_owned(),
                None => defines.get(value).unwrap_or_else(|| panic!("{value} is not an ONS_PROPERTY_ define")).clone(),
            };
            listed.insert((member.to_owned(), value));
        }
        let expected: BTreeSet<(String, String)> =
            cpp_constants().into_iter().map(|(m, v)| (m.to_owned(), v.to_owned())).collect();
        assert_eq!(listed, expected, "include/ons/ONSFactory.h PropertyKeys");
    }

    /// ONS_BLESS_DOCS=1 rewrites the table in docs/configuration-keys.md.
    #[test]
    fn docs_table_is_current() {
        const BEGIN: &str = "<!-- BEGIN catalogue (generated by core/src/config/catalogue.rs) -->\n";
        const END: &str = "<!-- END catalogue -->";
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration-keys.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let start = doc.find(BEGIN).expect("no BEGIN marker") + BEGIN.len();
        let end = doc.find(END).expect("no END marker");
        let table = markdown_table();
        if std::env::var_os("ONS_BLESS_DOCS").is_some() {
            std::fs::write(&path, format!("{}{table}{}", &doc[..start], &doc[end..])).unwrap();
            return;
        }
        assert_eq!(&doc[start..end], table, "docs/configuration-keys.md is stale: ONS_BLESS_DOCS=1 rewrites it");
    }
}
