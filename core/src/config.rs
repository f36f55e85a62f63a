//! Configuration: the ONS property keys (the public configuration language of every binding)
//! parsed once into a typed [`ClientConfig`]. Every missing or malformed value is an error that
//! names the property. Secrets never appear in `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use crate::auth::Credentials;
use crate::error::{Error, Result};
use crate::protocol::codes::LanguageCode;
use crate::protocol::message::DEFAULT_COMPRESS_LEVEL;
// Types of ClientConfig's fields, named here for users of the crate (their modules are
// internal unless the `unstable` feature is on).
pub use crate::protocol::command::SerializeType;
pub use crate::protocol::message::CompressionType;

pub mod catalogue;
pub mod tls;

pub use tls::{TlsMode, TlsOptions};

/// The ONS `PropertyKeyConst` names (and a few of this client's own, marked as such). Every
/// one is a spelling of a key of the [`catalogue`] (checked by its tests), and a lookup by any
/// spelling finds the value given under any other.
pub mod keys {
    pub const ACCESS_KEY: &str = "AccessKey";
    pub const SECRET_KEY: &str = "SecretKey";
    pub const SECURITY_TOKEN: &str = "SecurityToken";
    pub const ONS_CHANNEL: &str = "OnsChannel";
    pub const NAMESRV_ADDR: &str = "NAMESRV_ADDR";
    /// Deprecated ONS alias of NAMESRV_ADDR.
    pub const ONS_ADDR: &str = "ONSAddr";
    pub const GROUP_ID: &str = "GROUP_ID";
    /// Deprecated ONS aliases of GROUP_ID.
    pub const PRODUCER_ID: &str = "ProducerId";
    pub const CONSUMER_ID: &str = "ConsumerId";
    /// Alias of GROUP_ID used by some ONS SDKs.
    pub const GROUP_ID_CAMEL: &str = "GroupId";
    pub const MESSAGE_MODEL: &str = "MessageModel";
    pub const CONSUME_THREAD_NUMS: &str = "ConsumeThreadNums";
    pub const MAX_RECONSUME_TIMES: &str = "MaxReconsumeTimes";
    /// The ONS Java SDK's value of `PropertyKeyConst.MaxReconsumeTimes`.
    pub const MAX_RECONSUME_TIMES_JAVA: &str = "maxReconsumeTimes";
    pub const CONSUME_TIMEOUT: &str = "ConsumeTimeout";
    /// The ONS Java SDK's value of `PropertyKeyConst.ConsumeTimeout`.
    pub const CONSUME_TIMEOUT_JAVA: &str = "consumeTimeout";
    pub const CONSUME_MESSAGE_BATCH_MAX_SIZE: &str = "ConsumeMessageBatchMaxSize";
    pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CheckImmunityTimeInSeconds";
    /// The spelling used in the Apsara Stack SDK reference's table (docs/ons-properties.md §1).
    pub const CHECK_IMMUNITY_TIME_IN_SECS: &str = "CheckImmunityTimeInSecs";
    pub const SUSPEND_TIME_MILLIS: &str = "suspendTimeMillis";
    /// The ONS C++ SDK's spelling of suspendTimeMillis (`ONSFactoryProperty::SuspendTimeMillis`).
    pub const SUSPEND_TIME_MILLIS_CPP: &str = "SuspendTimeMillis";
    pub const SEND_MSG_TIMEOUT_MILLIS: &str = "SendMsgTimeoutMillis";
    pub const MAX_CACHED_MESSAGE_AMOUNT: &str = "MaxCachedMessageAmount";
    pub const MAX_CACHED_MESSAGE_SIZE_IN_MIB: &str = "MaxCachedMessageSizeInMiB";
    /// ONS Java `PropertyKeyConst.MAX_BATCH_MESSAGE_COUNT`: the pull batch size.
    pub const MAX_BATCH_MESSAGE_COUNT: &str = "maxBatchMessageCount";
    /// ONS Java `PropertyKeyConst.AUTO_COMMIT`: whether a pull consumer commits what `poll`
    /// returned by itself.
    pub const AUTO_COMMIT: &str = "autoCommit";
    /// ONS Java `PropertyKeyConst.AUTO_COMMIT_INTERVAL_MILLIS`.
    pub const AUTO_COMMIT_INTERVAL_MILLIS: &str = "autoCommitIntervalMillis";
    /// ONS Java `PropertyKeyConst.POLL_TIMEOUT_MILLIS`: how long a pull consumer's `poll` waits by default.
    pub const POLL_TIMEOUT_MILLIS: &str = "pollTimeoutMillis";
    /// ONS Java `PropertyKeyConst.BatchConsumeMaxAwaitDurationInSeconds`.
    pub const BATCH_CONSUME_MAX_AWAIT_DURATION_IN_SECONDS: &str = "batchConsumeMaxAwaitDurationInSeconds";
    /// `AVG` or `AVG_BY_CIRCLE` (ONS Java `PropertyKeyConst.ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME`).
    pub const ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME: &str = "ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME";
    /// The older ONS spelling: the name of `PropertyKeyConst.ALLOCATE_MESSAGE_QUEUE_STRATEGY`'s
    /// value, used as a key (`AVG_BY_CIRCLE=AVG_BY_CIRCLE`).
    pub const ALLOCATE_MESSAGE_QUEUE_STRATEGY_ONS: &str = "AVG_BY_CIRCLE";
    pub const INSTANCE_NAME: &str = "InstanceName";
    /// The ONS C++ SDK's spelling of InstanceName (`ONSFactoryProperty::ConsumerInstanceName`).
    pub const CONSUMER_INSTANCE_NAME_CPP: &str = "ConsumerInstanceName";
    pub const INSTANCE_ID: &str = "INSTANCE_ID";
    pub const NAMESPACE: &str = "Namespace";
    pub const VIP_CHANNEL_ENABLED: &str = "isVipChannelEnabled";
    pub const MSG_TRACE_SWITCH: &str = "MsgTraceSwitch";
    /// The trace topic (Apache RocketMQ OpenMessaging ONS API `PropertyKeyConst.TRACE_TOPIC_NAME`).
    pub const TRACE_TOPIC_NAME: &str = "traceTopicName";
    /// Where message traces go: `LOCAL` (the trace topic) or `CLOUD` (a topic per broker
    /// region), as the Apache Java client's `ClientConfig.accessChannel`.
    pub const ACCESS_CHANNEL: &str = "AccessChannel";
    /// This client's own: attempts after the first for a failed sync send (Java default 2).
    pub const SEND_MSG_RETRY_TIMES: &str = "SendMsgRetryTimes";
    /// This client's own: `JSON` (default) or `ROCKETMQ` (binary) request headers.
    pub const HEADER_FORMAT: &str = "HeaderFormat";
    /// This client's own: compress bodies at least this large (Java default 4096).
    pub const COMPRESS_OVER_BYTES: &str = "CompressMsgBodyOverHowmuch";
    /// How single-message sends compress large bodies: `ZLIB` (default), `LZ4` or `ZSTD`, as
    /// the Java 5.x producer's `compressType`. Consumers decode all three whatever this says.
    pub const COMPRESS_TYPE: &str = "CompressType";
    /// The Java producer's field name of COMPRESS_TYPE.
    pub const COMPRESS_TYPE_JAVA: &str = "compressType";
    /// The Java client's system property for COMPRESS_TYPE.
    pub const COMPRESS_TYPE_SYSTEM_PROPERTY: &str = "rocketmq.message.compressType";
    /// The compression level: zlib 0..=9, ZSTD 1..=22, ignored by LZ4 (default 5, as Java).
    pub const COMPRESS_LEVEL: &str = "CompressLevel";
    /// The Java producer's field name of COMPRESS_LEVEL.
    pub const COMPRESS_LEVEL_JAVA: &str = "compressLevel";
    /// The Java client's system property for COMPRESS_LEVEL.
    pub const COMPRESS_LEVEL_SYSTEM_PROPERTY: &str = "rocketmq.message.compressLevel";
    /// This client's own: `true` to announce language JAVA instead of RUST to old servers.
    pub const LANGUAGE_AS_JAVA: &str = "LanguageAsJava";
    /// The spelling the ONS Java SDK actually uses for MaxCachedMessageAmount.
    pub const MAX_CACHED_MESSAGE_AMOUNT_ONS: &str = "maxCachedMessageAmount";
    /// The spelling the ONS Java SDK actually uses for MaxCachedMessageSizeInMiB.
    pub const MAX_CACHED_MESSAGE_SIZE_IN_MIB_ONS: &str = "maxCachedMessageSizeInMiB";
    /// The ONS C++ SDK's name for MaxCachedMessageAmount (`ONSFactoryProperty::MaxMsgCacheSize`).
    pub const MAX_MSG_CACHE_SIZE_CPP: &str = "MaxMsgCacheSize";
    /// This client's own: where a new consumer group starts, `CONSUME_FROM_LAST_OFFSET`
    /// (default), `CONSUME_FROM_FIRST_OFFSET` or `CONSUME_FROM_TIMESTAMP` (also `LAST`, `FIRST`,
    /// `TIMESTAMP`).
    pub const CONSUME_FROM_WHERE: &str = "ConsumeFromWhere";
    /// This client's own: the start time for `CONSUME_FROM_TIMESTAMP`, as epoch milliseconds or
    /// `yyyyMMddHHmmss` (UTC); default 30 minutes ago.
    pub const CONSUME_TIMESTAMP: &str = "ConsumeTimestamp";
    /// This client's own: the directory of the BROADCASTING consumers' local offset files
    /// (default `$HOME/.rocketmq_offsets`, as the Java client).
    pub const OFFSET_STORE_DIR: &str = "OffsetStoreDir";
    /// This client's own: `true` to speak TLS to name servers and brokers, trusting the
    /// system's root certificates (default `false`: plain TCP). Implied by the next two.
    pub const TLS_ENABLE: &str = "TlsEnable";
    /// This client's own: a PEM file of CA certificates; TLS on, server certificates must chain
    /// to one of them (the system roots are not used).
    pub const TLS_CA_FILE: &str = "TlsCaFile";
    /// This client's own: `true` for TLS without verifying server certificates (encrypted but
    /// not authenticated; logs a warning once). Only for tests or trusted networks.
    pub const TLS_INSECURE_SKIP_VERIFY: &str = "TlsInsecureSkipVerify";
    /// This client's own: the DNS name (or IP) server certificates are checked against, instead
    /// of the host of each address (brokers are addressed by IP in routes).
    pub const TLS_SERVER_NAME: &str = "TlsServerName";
    /// This client's own: `true` to pass through property names the catalogue does not know
    /// (by default they are an error naming the closest known name).
    pub const ALLOW_UNKNOWN_PROPERTIES: &str = super::catalogue::ALLOW_UNKNOWN_PROPERTIES;
}

/// Everything a producer or consumer needs to reach the cluster, plus producer settings.
#[derive(Clone)]
pub struct ClientConfig {
    /// The name servers given as addresses; empty when they come from `address_server`.
    pub namesrv_addrs: Vec<String>,
    /// The address server (an `http(s)://` URL with a path, docs/configuration-keys.md) that
    /// lists the name servers, when NAMESRV_ADDR or ONSAddr is one.
    pub address_server: Option<String>,
    pub group_id: String,
    pub credentials: Option<Credentials>,
    pub namespace: Option<String>,
    pub instance_name: String,
    pub serialize_type: SerializeType,
    pub send_timeout: Duration,
    pub send_retry_times: u32,
    pub compress_over_bytes: usize,
    /// How large bodies are compressed, and at which level (within the type's range).
    pub compress_type: CompressionType,
    pub compress_level: i32,
    pub check_immunity_time_secs: Option<u32>,
    /// The `language` every request announces: `RUST`, or `JAVA` with `LanguageAsJava=true`
    /// (for servers and ACL rules that expect Java clients; docs/remoting-protocol.md).
    pub language: LanguageCode,
    /// Plain TCP or TLS (and how server certificates are checked).
    pub tls: TlsOptions,
    /// Whether producers and consumers write message traces (`MsgTraceSwitch`, on by default;
    /// see docs/traces.md).
    pub msg_trace: bool,
    /// Where traces go (`traceTopicName`, default `RMQ_SYS_TRACE_TOPIC`) with the `LOCAL`
    /// access channel.
    pub trace_topic: String,
    /// `AccessChannel`: `CLOUD` sends traces to a topic per broker region instead of
    /// `trace_topic`, and writes `SubAfter` records in the cloud form (docs/traces.md).
    pub access_channel: AccessChannel,
    /// Every property given, for the consumer settings parsed elsewhere.
    pub properties: Properties,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("namesrv_addrs", &self.namesrv_addrs)
            .field("address_server", &self.address_server)
            .field("group_id", &self.group_id)
            .field("credentials", &self.credentials)
            .field("namespace", &self.namespace)
            .field("instance_name", &self.instance_name)
            .field("serialize_type", &self.serialize_type)
            .field("send_timeout", &self.send_timeout)
            .field("send_retry_times", &self.send_retry_times)
            .field("language", &self.language)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A property map as the ONS SDKs take it (string keys, string values). `Debug` masks secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Properties(HashMap<String, String>);

impl Properties {
    pub fn new() -> Self {
        Properties::default()
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.insert(key.into(), value.into());
        self
    }

    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// The first present spelling among `names` and all their aliases in the [`catalogue`]
    /// (in that order), with its value trimmed; empty counts as absent.
    pub fn lookup(&self, names: &[&str]) -> Option<(&str, &str)> {
        let mut spellings: Vec<&str> = Vec::new();
        for name in names {
            spellings.push(name);
            if let Some(key) = catalogue::find(name) {
                for alias in key.names() {
                    spellings.push(alias);
                }
            }
        }
        spellings
            .into_iter()
            .filter_map(|n| self.0.get_key_value(n))
            .map(|(k, v)| (k.as_str(), v.trim()))
            .find(|(_, v)| !v.is_empty())
    }

    /// The value of the first present key among `names` and their aliases (see [`Self::lookup`]).
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        self.lookup(names).map(|(_, v)| v)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_any(&[name])
    }

    /// An optional property parsed as `T`, checked against `[min, max]`. Errors name the
    /// spelling that was given.
    pub fn parse_in<T>(&self, names: &[&str], min: T, max: T) -> Result<Option<T>>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let Some((name, raw)) = self.lookup(names) else { return Ok(None) };
        let value: T =
            raw.parse().map_err(|_| Error::invalid_config(format!("property {name} must be a number, got {raw:?}")))?;
        if value < min || value > max {
            return Err(Error::invalid_config(format!("property {name} must be in [{min}, {max}], got {value}")));
        }
        Ok(Some(value))
    }

    pub fn parse_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.lookup(&[name]) {
            None => Ok(None),
            Some((_, v)) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some((_, v)) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some((name, v)) => Err(Error::invalid_config(format!("property {name} must be true or false, got {v:?}"))),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Properties {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Properties(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self.0.keys().collect();
        keys.sort();
        let mut m = f.debug_map();
        for k in keys {
            if k == keys::SECRET_KEY || k == keys::SECURITY_TOKEN {
                m.entry(k, &"***");
            } else {
                m.entry(k, &self.0[k]);
            }
        }
        m.finish()
    }
}

/// Splits a `;`-separated name-server list, accepting the `http://host:port` form of Alibaba
/// endpoints (used as plain TCP), and derives the `MQ_INST_..` namespace from such an endpoint.
pub fn parse_namesrv_addrs(raw: &str) -> Result<(Vec<String>, Option<String>)> {
    let mut addrs = Vec::new();
    let mut namespace = None;
    for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let without_scheme = part.split_once("://").map(|(_, rest)| rest).unwrap_or(part);
        let host_port = without_scheme.trim_end_matches('/');
        let (host, port) = host_port
            .rsplit_once(':')
            .ok_or_else(|| Error::invalid_config(format!("property NAMESRV_ADDR entry {part:?} is not host:port")))?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(Error::invalid_config(format!("property NAMESRV_ADDR entry {part:?} is not host:port")));
        }
        if namespace.is_none() && host.starts_with("MQ_INST_") {
            // `MQ_INST_<digits>_<id>.region.mq-internal.aliyuncs.com` → instance id namespace.
            if let Some(inst) = host.split('.').next() {
                if inst.matches('_').count() >= 3 {
                    namespace = Some(inst.to_owned());
                }
            }
        }
        addrs.push(host_port.to_owned());
    }
    if addrs.is_empty() {
        return Err(Error::invalid_config("property NAMESRV_ADDR is empty"));
    }
    Ok((addrs, namespace))
}

/// The credentials of `props`: none without AccessKey and SecretKey, an error naming the one
/// missing when only the other is set. SecurityToken (STS) is optional.
pub fn credentials_from_properties(props: &Properties) -> Result<Option<Credentials>> {
    match (props.get(keys::ACCESS_KEY), props.get(keys::SECRET_KEY)) {
        (Some(ak), Some(sk)) => {
            let mut c = Credentials::new(ak, sk);
            if let Some(token) = props.get(keys::SECURITY_TOKEN) {
                c = c.with_security_token(token);
            }
            Ok(Some(c.with_ons_channel(ons_channel(props)?)))
        }
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::invalid_config("property SecretKey is required when AccessKey is set")),
        (None, Some(_)) => Err(Error::invalid_config("property AccessKey is required when SecretKey is set")),
    }
}

/// The channels `OnsChannel` may name: the ONS Java SDK's `ONSChannel` enum (CLOUD, ALIYUN, ALL;
/// its property is parsed with `ONSChannel.valueOf`, so case matters) and the two more of the
/// ONS C++ SDK's (LOCAL, INNER; include/ons/ONSFactory.h).
pub const ONS_CHANNELS: &[&str] = &["CLOUD", "ALIYUN", "ALL", "LOCAL", "INNER"];

/// Where a client's message traces go: the Apache Java client's `AccessChannel`
/// (`client/src/main/java/org/apache/rocketmq/client/AccessChannel.java`), read from the
/// property of the same name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessChannel {
    /// Open-source clusters: traces go to the trace topic (`traceTopicName`).
    #[default]
    Local,
    /// Alibaba Cloud: traces go to `rmq_sys_TRACE_DATA_<region>`, the region each record's
    /// broker names, and `SubAfter` records leave out their timestamp and group.
    Cloud,
}

impl AccessChannel {
    /// `LOCAL` or `CLOUD`, in any case.
    pub fn from_name(name: &str) -> Option<AccessChannel> {
        match name.trim() {
            n if n.eq_ignore_ascii_case("LOCAL") => Some(AccessChannel::Local),
            n if n.eq_ignore_ascii_case("CLOUD") => Some(AccessChannel::Cloud),
            _ => None,
        }
    }
}

/// The `OnsChannel` ext field signed requests carry, as the ONS Java SDK's `ClientRPCHook`
/// sends it: the property, `ALIYUN` when unset.
pub fn ons_channel(props: &Properties) -> Result<String> {
    match props.get(keys::ONS_CHANNEL) {
        None => Ok("ALIYUN".to_owned()),
        Some(v) if ONS_CHANNELS.contains(&v) => Ok(v.to_owned()),
        Some(v) => Err(Error::invalid_config(format!(
            "property OnsChannel is {v:?}; expected one of {}",
            ONS_CHANNELS.join(", ")
        ))),
    }
}

/// The credentials a started client rotates to (the ONS `Admin.updateCredential`): AccessKey
/// and SecretKey are required, SecurityToken optional. They replace the old ones whole, so a
/// token not given is dropped (the ONS Java SDK would keep the old one, which is only right
/// for another key of the same STS session). Other known properties are ignored, so the map
/// a client was created from can be passed back with new keys; unknown names are refused as
/// at creation. `OnsChannel` is the exception: when it is not given, the client keeps its
/// channel (the result's `ons_channel` is None), as the ONS Java SDK's `updateCredential` keeps
/// every field it is not given.
pub fn rotation_credentials(props: &Properties) -> Result<Credentials> {
    catalogue::check_known(props)?;
    let missing = |name: &str| {
        Error::invalid_config(format!("property {name} is required to update the credentials of a client"))
    };
    for required in [keys::ACCESS_KEY, keys::SECRET_KEY] {
        if props.get(required).is_none() {
            return Err(missing(required));
        }
    }
    let mut credentials = credentials_from_properties(props)?.ok_or_else(|| missing(keys::ACCESS_KEY))?;
    if props.get(keys::ONS_CHANNEL).is_none() {
        credentials.ons_channel = None;
    }
    Ok(credentials)
}

/// Checks a group id: the RocketMQ group rules (`[%|A-Za-z0-9_-]`, at most 255 characters).
pub fn validate_group(group: &str, property: &str) -> Result<()> {
    if group.is_empty() {
        return Err(Error::invalid_config(format!("property {property} is empty")));
    }
    if group.len() > 255 {
        return Err(Error::invalid_config(format!(
            "property {property} is {} characters long; at most 255 are allowed",
            group.len()
        )));
    }
    if let Some(c) = group.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '%' | '|'))) {
        return Err(Error::invalid_config(format!(
            "property {property} contains {c:?}; only A-Z a-z 0-9 _ - are allowed"
        )));
    }
    Ok(())
}

impl ClientConfig {
    /// Parses the properties every client kind shares, each read by any of its spellings; an
    /// unknown property name is an error ([`catalogue::check_known`]). `group_required` is
    /// false only for tools that never register a group.
    pub fn from_properties(props: &Properties, group_required: bool) -> Result<Self> {
        catalogue::check_known(props)?;
        let (addr_property, raw_addrs) = props.lookup(&[keys::NAMESRV_ADDR]).ok_or_else(|| {
            Error::invalid_config("property NAMESRV_ADDR is required (the name server address list, or ONSAddr)")
        })?;
        let (namesrv_addrs, address_server, endpoint_namespace) =
            if crate::http::address_server::is_address_server_url(raw_addrs) {
                if raw_addrs.contains(';') {
                    return Err(Error::invalid_config(format!(
                        "property {addr_property} holds an address-server URL among other entries; give the URL alone"
                    )));
                }
                // Checked now, so that a malformed URL fails creation rather than first use.
                crate::http::address_server::AddressServer::new(addr_property, raw_addrs)?;
                (Vec::new(), Some(raw_addrs.to_owned()), None)
            } else {
                let (addrs, namespace) = parse_namesrv_addrs(raw_addrs)?;
                (addrs, None, namespace)
            };

        let group_id = match props.get(keys::GROUP_ID) {
            Some(g) => {
                validate_group(g, keys::GROUP_ID)?;
                g.to_owned()
            }
            None if group_required => {
                return Err(Error::invalid_config(
                    "property GROUP_ID is required (also accepted: GroupId, ProducerId, ConsumerId)",
                ))
            }
            None => "DEFAULT_PRODUCER".to_owned(),
        };

        let credentials = credentials_from_properties(props)?;

        let namespace = props.get_any(&[keys::INSTANCE_ID, keys::NAMESPACE]).map(str::to_owned).or(endpoint_namespace);
        if let Some(ns) = &namespace {
            validate_group(ns, keys::INSTANCE_ID)?;
        }

        let serialize_type = match props.get(keys::HEADER_FORMAT) {
            None => SerializeType::Json,
            Some(v) if v.eq_ignore_ascii_case("JSON") => SerializeType::Json,
            Some(v) if v.eq_ignore_ascii_case("ROCKETMQ") || v.eq_ignore_ascii_case("BINARY") => {
                SerializeType::RocketMq
            }
            Some(v) => {
                return Err(Error::invalid_config(format!("property HeaderFormat must be JSON or ROCKETMQ, got {v:?}")))
            }
        };

        let instance_name = match props.get(keys::INSTANCE_NAME) {
            Some(n) => {
                validate_group(n, keys::INSTANCE_NAME)?;
                n.to_owned()
            }
            None => "DEFAULT".to_owned(),
        };

        let send_timeout_ms = props.parse_in(&[keys::SEND_MSG_TIMEOUT_MILLIS], 1u64, 3_600_000)?.unwrap_or(3000);
        let send_retry_times = props.parse_in(&[keys::SEND_MSG_RETRY_TIMES], 0u32, 16)?.unwrap_or(2);
        let compress_over_bytes = props.parse_in(&[keys::COMPRESS_OVER_BYTES], 1usize, usize::MAX)?.unwrap_or(4096);
        let compress_type = match props.get(keys::COMPRESS_TYPE) {
            None => CompressionType::Zlib,
            Some(name) => CompressionType::from_name(name).ok_or_else(|| {
                Error::invalid_config(format!("property CompressType must be ZLIB, LZ4 or ZSTD, got {name:?}"))
            })?,
        };
        let range = compress_type.level_range();
        let compress_level = props
            .parse_in(&[keys::COMPRESS_LEVEL], *range.start(), *range.end())?
            .unwrap_or(DEFAULT_COMPRESS_LEVEL as i32);
        let check_immunity_time_secs = props.parse_in(&[keys::CHECK_IMMUNITY_TIME_IN_SECONDS], 0u32, 86_400)?;
        let language = if props.parse_bool(keys::LANGUAGE_AS_JAVA)?.unwrap_or(false) {
            LanguageCode::Java
        } else {
            LanguageCode::Rust
        };

        let trace_topic = match props.get(keys::TRACE_TOPIC_NAME) {
            Some(t) => {
                crate::message::validate_topic(t).map_err(|e| {
                    Error::invalid_config(format!("property {}: {}", keys::TRACE_TOPIC_NAME, e.message()))
                })?;
                t.to_owned()
            }
            None => crate::trace::DEFAULT_TRACE_TOPIC.to_owned(),
        };
        let access_channel = match props.get(keys::ACCESS_CHANNEL) {
            None => AccessChannel::Local,
            Some(name) => AccessChannel::from_name(name).ok_or_else(|| {
                Error::invalid_config(format!("property {} must be LOCAL or CLOUD, got {name:?}", keys::ACCESS_CHANNEL))
            })?,
        };
        Ok(ClientConfig {
            namesrv_addrs,
            address_server,
            group_id,
            credentials,
            namespace,
            instance_name,
            serialize_type,
            send_timeout: Duration::from_millis(send_timeout_ms),
            send_retry_times,
            compress_over_bytes,
            compress_type,
            compress_level,
            language,
            check_immunity_time_secs,
            tls: TlsOptions::from_properties(props)?,
            msg_trace: props.parse_bool(keys::MSG_TRACE_SWITCH)?.unwrap_or(true),
            trace_topic,
            access_channel,
            properties: props.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn base() -> Properties {
        Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:9876").with(keys::GROUP_ID, "GID_test")
    }

    #[test]
    fn parses_minimal_config_with_defaults() {
        let c = ClientConfig::from_properties(&base(), true).unwrap();
        assert_eq!(c.namesrv_addrs, vec!["127.0.0.1:9876"]);
        assert_eq!(c.group_id, "GID_test");
        assert_eq!(c.send_timeout, Duration::from_millis(3000));
        assert_eq!(c.send_retry_times, 2);
        assert!(c.credentials.is_none());
    }

    #[test]
    fn missing_and_malformed_properties_name_the_property() {
        let err = ClientConfig::from_properties(&Properties::new().with(keys::GROUP_ID, "G"), true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.message().contains("NAMESRV_ADDR"));

        let err = ClientConfig::from_properties(&Properties::new().with(keys::NAMESRV_ADDR, "a:1"), true).unwrap_err();
        assert!(err.message().contains("GROUP_ID"));

        let err = ClientConfig::from_properties(&base().with(keys::SEND_MSG_TIMEOUT_MILLIS, "abc"), true).unwrap_err();
        assert!(err.message().contains("SendMsgTimeoutMillis"));

        let err = ClientConfig::from_properties(&base().with(keys::ACCESS_KEY, "ak"), true).unwrap_err();
        assert!(err.message().contains("SecretKey"));

        let err = ClientConfig::from_properties(&base().with(keys::NAMESRV_ADDR, "nohost"), true).unwrap_err();
        assert!(err.message().contains("NAMESRV_ADDR"));

        let err = ClientConfig::from_properties(&base().with(keys::GROUP_ID, "bad group"), true).unwrap_err();
        assert!(err.message().contains("GROUP_ID"));
    }

    #[test]
    fn compression_type_and_level() {
        let c = ClientConfig::from_properties(&base(), true).unwrap();
        assert_eq!((c.compress_type, c.compress_level), (CompressionType::Zlib, 5));
        let c = ClientConfig::from_properties(
            &base().with(keys::COMPRESS_TYPE, "zstd").with(keys::COMPRESS_LEVEL, "19"),
            true,
        )
        .unwrap();
        assert_eq!((c.compress_type, c.compress_level), (CompressionType::Zstd, 19));
        // The Java spellings.
        let p = base().with(keys::COMPRESS_TYPE_JAVA, "LZ4").with(keys::COMPRESS_LEVEL_SYSTEM_PROPERTY, "1");
        let c = ClientConfig::from_properties(&p, true).unwrap();
        assert_eq!((c.compress_type, c.compress_level), (CompressionType::Lz4, 1));
        let err = ClientConfig::from_properties(&base().with(keys::COMPRESS_TYPE, "gzip"), true).unwrap_err();
        assert!(err.message().contains("CompressType must be ZLIB, LZ4 or ZSTD"), "{err}");
        let err = ClientConfig::from_properties(&base().with(keys::COMPRESS_LEVEL, "12"), true).unwrap_err();
        assert!(err.message().contains("CompressLevel must be in [0, 9]"), "{err}");
    }

    #[test]
    fn aliases_and_alibaba_endpoints() {
        let p = Properties::new()
            .with(keys::ONS_ADDR, "http://MQ_INST_123_BXyz.cn-hangzhou.mq-internal.aliyuncs.com:8080; 10.0.0.2:9876")
            .with(keys::PRODUCER_ID, "PID_x");
        let c = ClientConfig::from_properties(&p, true).unwrap();
        assert_eq!(
            c.namesrv_addrs,
            vec!["MQ_INST_123_BXyz.cn-hangzhou.mq-internal.aliyuncs.com:8080", "10.0.0.2:9876"]
        );
        assert_eq!(c.namespace.as_deref(), Some("MQ_INST_123_BXyz"));
        assert_eq!(c.group_id, "PID_x");
        let c =
            ClientConfig::from_properties(&base().with(keys::CONSUMER_INSTANCE_NAME_CPP, "worker-7"), true).unwrap();
        assert_eq!(c.instance_name, "worker-7");
    }

    #[test]
    fn an_address_server_url_is_polled_and_name_servers_win_over_it() {
        let url = "http://127.0.0.1:8080/rocketmq/nsaddr4client-internet";
        let p = Properties::new().with(keys::ONS_ADDR, url).with(keys::GROUP_ID, "GID_x");
        let c = ClientConfig::from_properties(&p, true).unwrap();
        assert_eq!((c.address_server.as_deref(), c.namesrv_addrs.len()), (Some(url), 0));
        // NAMESRV_ADDR wins when both are set.
        let c = ClientConfig::from_properties(&p.clone().with(keys::NAMESRV_ADDR, "10.0.0.1:9876"), true).unwrap();
        assert_eq!((c.address_server, c.namesrv_addrs), (None, vec!["10.0.0.1:9876".to_owned()]));
        // An Alibaba TCP endpoint (no path) stays a name server.
        let endpoint = "http://MQ_INST_1_ab.cn-hangzhou.mq-internal.aliyuncs.com:8080";
        let c = ClientConfig::from_properties(&p.clone().with(keys::ONS_ADDR, endpoint), true).unwrap();
        assert_eq!(c.address_server, None);
        let err = ClientConfig::from_properties(&p.clone().with(keys::ONS_ADDR, format!("{url};10.0.0.1:9876")), true)
            .unwrap_err();
        assert!(err.message().contains("property ONSAddr") && err.message().contains("alone"), "{err}");
        let err = ClientConfig::from_properties(&p.with(keys::ONS_ADDR, "http://h/p?x=1"), true).unwrap_err();
        assert!(err.message().contains("property ONSAddr"), "{err}");
    }

    #[test]
    fn the_access_channel_is_local_unless_set_to_cloud() {
        let base = || Properties::new().with(keys::NAMESRV_ADDR, "127.0.0.1:9876").with(keys::GROUP_ID, "GID_a");
        let channel = |p: Properties| ClientConfig::from_properties(&p, true).map(|c| c.access_channel);
        assert_eq!(channel(base()).unwrap(), AccessChannel::Local);
        assert_eq!(channel(base().with(keys::ACCESS_CHANNEL, "CLOUD")).unwrap(), AccessChannel::Cloud);
        // The Apache Java client's field name, any case.
        assert_eq!(channel(base().with("accessChannel", "cloud")).unwrap(), AccessChannel::Cloud);
        assert_eq!(channel(base().with(keys::ACCESS_CHANNEL, "Local")).unwrap(), AccessChannel::Local);
        let err = channel(base().with(keys::ACCESS_CHANNEL, "ALIYUN")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert_eq!(err.message(), "property AccessChannel must be LOCAL or CLOUD, got \"ALIYUN\"");
    }

    #[test]
    fn credentials_carry_the_ons_channel_default_aliyun() {
        let with =
            |p: Properties| credentials_from_properties(&p.with(keys::ACCESS_KEY, "ak").with(keys::SECRET_KEY, "sk"));
        assert_eq!(with(Properties::new()).unwrap().unwrap().ons_channel.as_deref(), Some("ALIYUN"));
        let cloud = with(Properties::new().with(keys::ONS_CHANNEL, "CLOUD")).unwrap().unwrap();
        assert_eq!(cloud.ons_channel.as_deref(), Some("CLOUD"));
        let err = with(Properties::new().with(keys::ONS_CHANNEL, "aliyun")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert_eq!(
            err.message(),
            "property OnsChannel is \"aliyun\"; expected one of CLOUD, ALIYUN, ALL, LOCAL, INNER"
        );
    }

    #[test]
    fn rotation_needs_both_keys_and_replaces_the_token() {
        let creds = rotation_credentials(&base().with(keys::ACCESS_KEY, "ak2").with(keys::SECRET_KEY, "sk2")).unwrap();
        assert_eq!((creds.access_key.as_str(), creds.security_token), ("ak2", None));
        let creds = rotation_credentials(
            &Properties::new()
                .with(keys::ACCESS_KEY, "ak3")
                .with(keys::SECRET_KEY, "sk3")
                .with(keys::SECURITY_TOKEN, "tok"),
        )
        .unwrap();
        assert_eq!(creds.security_token.as_deref(), Some("tok"));
        for (props, name) in [
            (Properties::new().with(keys::SECRET_KEY, "sk"), "AccessKey"),
            (Properties::new(), "AccessKey"),
            (Properties::new().with(keys::ACCESS_KEY, " "), "AccessKey"),
            (Properties::new().with(keys::ACCESS_KEY, "ak"), "SecretKey"),
        ] {
            let err = rotation_credentials(&props).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfig);
            assert!(err.message().starts_with(&format!("property {name} is required")), "{err}");
        }
        let err =
            rotation_credentials(&Properties::new().with("Accesskey", "ak").with(keys::SECRET_KEY, "sk")).unwrap_err();
        assert!(err.message().contains("did you mean 'AccessKey'"), "{err}");
    }

    #[test]
    fn rotation_keeps_the_channel_unless_given_and_names_a_bad_one() {
        let keys_only = Properties::new().with(keys::ACCESS_KEY, "ak").with(keys::SECRET_KEY, "sk");
        assert_eq!(rotation_credentials(&keys_only).unwrap().ons_channel, None);
        let cloud = rotation_credentials(&keys_only.clone().with(keys::ONS_CHANNEL, "CLOUD")).unwrap();
        assert_eq!(cloud.ons_channel.as_deref(), Some("CLOUD"));
        let err = rotation_credentials(&keys_only.with(keys::ONS_CHANNEL, "aliyun")).unwrap_err();
        assert!(err.message().starts_with("property OnsChannel is \"aliyun\""), "{err}");
    }

    #[test]
    fn unknown_property_names_are_refused_unless_allowed() {
        let err = ClientConfig::from_properties(&base().with("SendMsgTimeoutMilis", "100"), true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(
            err.message().starts_with("unknown property 'SendMsgTimeoutMilis' (did you mean 'SendMsgTimeoutMillis'?)"),
            "{err}"
        );
        let allowed = base().with("SendMsgTimeoutMilis", "100").with(keys::ALLOW_UNKNOWN_PROPERTIES, "true");
        let c = ClientConfig::from_properties(&allowed, true).unwrap();
        assert_eq!(c.send_timeout, Duration::from_millis(3000));
        assert_eq!(c.properties.get("SendMsgTimeoutMilis"), Some("100"));
        // The C++ SDK's spellings are known.
        let c = ClientConfig::from_properties(
            &base().with("InstanceId", "MQ_INST_1_x").with("OnsTraceSwitch", "false"),
            true,
        )
        .unwrap();
        assert_eq!(c.namespace.as_deref(), Some("MQ_INST_1_x"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let p = base().with(keys::ACCESS_KEY, "myak").with(keys::SECRET_KEY, "topsecret-value");
        let c = ClientConfig::from_properties(&p, true).unwrap();
        let shown = format!("{c:?} {p:?}");
        assert!(!shown.contains("topsecret-value"), "{shown}");
        assert!(shown.contains("myak"));
    }
}
