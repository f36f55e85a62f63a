//! Typed `data` of the Open API responses (the returned fields of docs/open-api.md §7, from the
//! Apsara Stack developer guide).
//!
//! Every field is optional (a missing field is `None` or an empty list) and unknown fields are
//! ignored. Numbers and booleans are read leniently: `"123"` is a number, `"true"` and `1` are
//! `true`, and a number where a string is documented becomes its decimal text; a value of an
//! unusable type reads as absent rather than failing the call. The guide spells some names in
//! PascalCase (copied from the public cloud's API, e.g. `SubscriptionDataList`, the whole DLQ
//! section) and the rest in camelCase; both spellings are accepted.
//!
//! Where the guide documents no fields (topic get/list, empower list), the structs hold the
//! fields those calls are known to be about, and `extra` keeps everything else.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Lenient field readers, used with `#[serde(deserialize_with)]`.
mod de {
    use super::*;

    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        })
    }

    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(to_i64(&Value::deserialize(d)?))
    }

    pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(to_bool(&Value::deserialize(d)?))
    }

    /// A list; `null` is empty and a single object is a list of one.
    pub fn list<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        let items = match Value::deserialize(d)? {
            Value::Null => return Ok(Vec::new()),
            Value::Array(items) => items,
            one => vec![one],
        };
        items.into_iter().map(|v| serde_json::from_value(v).map_err(serde::de::Error::custom)).collect()
    }

    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items.into_iter().filter_map(|v| string(v).ok().flatten()).collect(),
            Value::Null => Vec::new(),
            one => string(one).ok().flatten().into_iter().collect(),
        })
    }

    /// Message properties: a list of `{name, value}` objects, or an object of name → value.
    pub fn properties<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<MessageProperty>, D::Error> {
        match Value::deserialize(d)? {
            Value::Object(map) => Ok(map
                .into_iter()
                .map(|(name, value)| MessageProperty { name: Some(name), value: string(value).ok().flatten() })
                .collect()),
            other => list(other).map_err(serde::de::Error::custom),
        }
    }
}

pub(crate) fn to_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18).map(|f| f as i64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A string-valued enum with a fallback for values the guide does not list.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value the guide does not list.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(s) => s,
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = de::string(d)?.unwrap_or_default();
                Ok(match s.as_str() {
                    $($wire => $name::$variant,)*
                    _ => $name::Other(s),
                })
            }
        }
    };
}

string_enum! {
    /// How a group consumes (`messageModel`, `consumeModel`).
    MessageModel {
        /// Each message goes to one consumer of the group.
        Clustering = "CLUSTERING",
        /// Each message goes to every consumer of the group.
        Broadcasting = "BROADCASTING",
    }
}

string_enum! {
    /// `consumeType` of a consumer connection.
    ConsumeType {
        /// The server pushes messages.
        Push = "PUSH",
        /// The consumer pulls.
        Pull = "PULL",
    }
}

string_enum! {
    /// `trackType` of a message trace.
    TrackType {
        Consumed = "CONSUMED",
        ConsumedButFiltered = "CONSUMED_BUT_FILTERED",
        NotConsumeYet = "NOT_CONSUME_YET",
        NotOnline = "NOT_ONLINE",
        Unknown = "UNKNOWN",
    }
}

/// `RegionDo` (region/list).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionInfo {
    #[serde(default, deserialize_with = "de::int")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de::string")]
    pub region_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub region_name: Option<String>,
}

/// `ClusterInfoDo` (cluster/list).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    #[serde(default, deserialize_with = "de::string")]
    pub region_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub cluster: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub create_time: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub modify_time: Option<String>,
}

/// `InstanceBaseInfo` (instance/baseInfo).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceBaseInfo {
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub instance_name: Option<String>,
    /// Whether the instance has its own namespace.
    #[serde(default, deserialize_with = "de::boolean")]
    pub independent_naming: Option<bool>,
    #[serde(default, alias = "Endpoints")]
    pub endpoints: Option<Endpoints>,
    #[serde(default, deserialize_with = "de::int")]
    pub max_send_tps: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub max_receive_tps: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub topic_capacity: Option<i64>,
}

/// The access points of an instance.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// The TCP endpoint (the `NAMESRV_ADDR` of producers and consumers).
    #[serde(default, alias = "TcpEndpoint", deserialize_with = "de::string")]
    pub tcp_endpoint: Option<String>,
}

/// `InstanceVO` (instance/list).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub instance_name: Option<String>,
    /// Whether the instance has its own namespace (the guide types it Boolean).
    #[serde(default, deserialize_with = "de::boolean")]
    pub namespace_rules_type: Option<bool>,
}

/// A topic as topic/get and topic/listInPage return it. The guide documents no fields for these
/// calls; these are the topic's properties it names elsewhere (docs/open-api.md §7.4), the rest
/// is in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicInfo {
    #[serde(default, alias = "Topic", deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, alias = "InstanceId", deserialize_with = "de::string")]
    pub instance_id: Option<String>,
    #[serde(default, alias = "Owner", deserialize_with = "de::string")]
    pub owner: Option<String>,
    /// The message type, as `orderType` of topic/create.
    #[serde(default, alias = "OrderType", alias = "messageType", alias = "MessageType", deserialize_with = "de::int")]
    pub order_type: Option<i64>,
    /// Read/write permission, as `perm` of topic/update.
    #[serde(default, alias = "Perm", deserialize_with = "de::int")]
    pub perm: Option<i64>,
    #[serde(default, alias = "Remark", deserialize_with = "de::string")]
    pub remark: Option<String>,
    #[serde(default, alias = "IndependentNaming", deserialize_with = "de::boolean")]
    pub independent_naming: Option<bool>,
    #[serde(default, alias = "CreateTime", deserialize_with = "de::string")]
    pub create_time: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A topic name from topic/listNames: the guide says only "the names, as JSON"; plain strings
/// and objects with a `topic` field are both read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicName(pub String);

impl<'de> Deserialize<'de> for TopicName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = match Value::deserialize(d)? {
            Value::Object(map) => {
                map.get("topic").or_else(|| map.get("Topic")).and_then(|v| v.as_str().map(str::to_owned))
            }
            Value::String(s) => Some(s),
            _ => None,
        };
        name.map(TopicName)
            .ok_or_else(|| serde::de::Error::custom("a topic name is neither a string nor {\"topic\": ...}"))
    }
}

/// `Data` of topic/subDetail.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicSubDetail {
    #[serde(default, deserialize_with = "de::string")]
    pub topic: Option<String>,
    /// The online groups subscribing to the topic.
    #[serde(default, alias = "SubscriptionDataList", deserialize_with = "de::list")]
    pub subscription_data_list: Vec<TopicSubscriber>,
}

/// One online subscriber of a topic.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicSubscriber {
    #[serde(default, deserialize_with = "de::string")]
    pub group_id: Option<String>,
    /// The subscription expression.
    #[serde(default, deserialize_with = "de::string")]
    pub sub_string: Option<String>,
    #[serde(default)]
    pub message_model: Option<MessageModel>,
}

/// What group/create returns: the guide lists `remark` only.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupCreated {
    #[serde(default, deserialize_with = "de::string")]
    pub remark: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `SubscribeInfoDo` (group/list).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    #[serde(default, deserialize_with = "de::string")]
    pub owner: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "de::boolean")]
    pub independent_naming: Option<bool>,
    #[serde(default, deserialize_with = "de::string")]
    pub remark: Option<String>,
}

/// `Data` of group/subDetail.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSubDetail {
    #[serde(default, deserialize_with = "de::string")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "de::boolean")]
    pub online: Option<bool>,
    #[serde(default)]
    pub message_model: Option<MessageModel>,
    /// Empty when the group is not online.
    #[serde(default, alias = "SubscriptionDataList", deserialize_with = "de::list")]
    pub subscription_data_list: Vec<GroupSubscription>,
}

/// One topic a group subscribes to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSubscription {
    #[serde(default, deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub sub_string: Option<String>,
}

/// `Data` of consumer/accumulate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerAccumulate {
    /// Whether any consumer of the group is online (the guide spells it `onLine`).
    #[serde(default, rename = "onLine", alias = "online", deserialize_with = "de::boolean")]
    pub online: Option<bool>,
    #[serde(default, deserialize_with = "de::int")]
    pub total_diff: Option<i64>,
    #[serde(default, deserialize_with = "de::float")]
    pub consume_tps: Option<f64>,
    #[serde(default, deserialize_with = "de::int")]
    pub last_timestamp: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub delay_time: Option<i64>,
    #[serde(default, alias = "DetailInTopicList", deserialize_with = "de::list")]
    pub detail_in_topic_list: Vec<TopicAccumulate>,
}

/// Backlog of one topic (`DetailInTopicDo`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicAccumulate {
    #[serde(default, deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, deserialize_with = "de::int")]
    pub total_diff: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub last_timestamp: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub delay_time: Option<i64>,
}

/// `ConsumerStatusDo` (consumer/status).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerStatus {
    #[serde(default, alias = "onLine", deserialize_with = "de::boolean")]
    pub online: Option<bool>,
    #[serde(default, deserialize_with = "de::int")]
    pub total_diff: Option<i64>,
    /// The guide types it Long here and Float in accumulate; read as a float.
    #[serde(default, deserialize_with = "de::float")]
    pub consume_tps: Option<f64>,
    #[serde(default, deserialize_with = "de::int")]
    pub last_timestamp: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub delay_time: Option<i64>,
    /// The guide types it Long here and String (`CLUSTERING`...) elsewhere; kept as text.
    #[serde(default, deserialize_with = "de::string")]
    pub consume_model: Option<String>,
    #[serde(default, deserialize_with = "de::boolean")]
    pub subscription_same: Option<bool>,
    #[serde(default, rename = "rebalanceOK", alias = "rebalanceOk", deserialize_with = "de::boolean")]
    pub rebalance_ok: Option<bool>,
    #[serde(default, alias = "ConnectionSet", deserialize_with = "de::list")]
    pub connection_set: Vec<ConsumerConnection>,
    /// Filled only when the request set `detail`.
    #[serde(default, alias = "DetailInTopicList", deserialize_with = "de::list")]
    pub detail_in_topic_list: Vec<TopicAccumulate>,
    /// Filled only when the request set `detail`.
    #[serde(default, alias = "ConsumerConnectionInfoList", deserialize_with = "de::list")]
    pub consumer_connection_info_list: Vec<ConsumerConnectionInfo>,
}

/// `ConnectionDo`: one online consumer client.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConnection {
    #[serde(default, deserialize_with = "de::string")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub client_addr: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub version: Option<String>,
    #[serde(default, rename = "remoteIP", alias = "remoteIp", deserialize_with = "de::string")]
    pub remote_ip: Option<String>,
}

/// `ConsumerConnectionInfoDo`: details of one consumer client.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConnectionInfo {
    #[serde(default, deserialize_with = "de::string")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub connection: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub language: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub version: Option<String>,
    #[serde(default)]
    pub consume_model: Option<MessageModel>,
    #[serde(default)]
    pub consume_type: Option<ConsumeType>,
    #[serde(default, deserialize_with = "de::int")]
    pub thread_count: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub start_time_stamp: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub last_time_stamp: Option<i64>,
    #[serde(default, alias = "SubscriptionSet", deserialize_with = "de::list")]
    pub subscription_set: Vec<SubscriptionData>,
    #[serde(default, alias = "RunningDataList", deserialize_with = "de::list")]
    pub running_data_list: Vec<ConsumerRunningData>,
    #[serde(default, alias = "Jstack", deserialize_with = "de::list")]
    pub jstack: Vec<ThreadTrack>,
}

/// `SubscriptionData`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionData {
    #[serde(default, deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub sub_string: Option<String>,
    #[serde(default, deserialize_with = "de::int")]
    pub sub_version: Option<i64>,
    #[serde(default, deserialize_with = "de::strings")]
    pub tags_set: Vec<String>,
}

/// `ConsumerRunningDataDo`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerRunningData {
    #[serde(default, deserialize_with = "de::string")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub topic: Option<String>,
    /// Consume time in milliseconds.
    #[serde(default, deserialize_with = "de::float")]
    pub rt: Option<f64>,
    #[serde(default, deserialize_with = "de::float")]
    pub ok_tps: Option<f64>,
    #[serde(default, deserialize_with = "de::float")]
    pub failed_tps: Option<f64>,
    #[serde(default, deserialize_with = "de::int")]
    pub failed_count_per_hour: Option<i64>,
}

/// `ThreadTrackDo`: one thread of a consumer's jstack.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTrack {
    #[serde(default, deserialize_with = "de::string")]
    pub thread: Option<String>,
    #[serde(default, deserialize_with = "de::strings")]
    pub track_list: Vec<String>,
}

/// `Data` of consumer/timespan. The guide (docs/open-api.md §7.6) describes `minTimeStamp` as the
/// newest stored message and `maxTimeStamp` as the earliest, the reverse of the names; the names
/// are kept as sent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerTimespan {
    #[serde(default, deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, deserialize_with = "de::int")]
    pub min_time_stamp: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub max_time_stamp: Option<i64>,
    #[serde(default, deserialize_with = "de::int")]
    pub consume_time_stamp: Option<i64>,
}

/// `MessageTrack` (message/trace): whether a group consumed the message.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageTrack {
    #[serde(default, deserialize_with = "de::string")]
    pub instance_id: Option<String>,
    #[serde(default, deserialize_with = "de::string")]
    pub consumer_group: Option<String>,
    #[serde(default)]
    pub track_type: Option<TrackType>,
    #[serde(default, deserialize_with = "de::string")]
    pub exception_desc: Option<String>,
}

/// `OnsRestMessageDo`: a stored message (message queries and the DLQ queries, whose section
/// of the guide, docs/open-api.md §7.10, spells every field in PascalCase).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestMessage {
    #[serde(default, alias = "Topic", deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, alias = "PropertyList", deserialize_with = "de::properties")]
    pub property_list: Vec<MessageProperty>,
    #[serde(default, alias = "Body", deserialize_with = "de::string")]
    pub body: Option<String>,
    #[serde(default, alias = "StoreSize", deserialize_with = "de::int")]
    pub store_size: Option<i64>,
    #[serde(default, alias = "BornTimestamp", deserialize_with = "de::int")]
    pub born_timestamp: Option<i64>,
    #[serde(default, alias = "BornHost", deserialize_with = "de::string")]
    pub born_host: Option<String>,
    #[serde(default, alias = "StoreTimestamp", deserialize_with = "de::int")]
    pub store_timestamp: Option<i64>,
    #[serde(default, alias = "StoreHost", deserialize_with = "de::string")]
    pub store_host: Option<String>,
    #[serde(default, alias = "MsgId", deserialize_with = "de::string")]
    pub msg_id: Option<String>,
    #[serde(default, rename = "bodyCRC", alias = "BodyCRC", alias = "bodyCrc", deserialize_with = "de::int")]
    pub body_crc: Option<i64>,
    #[serde(default, alias = "ReconsumeTimes", deserialize_with = "de::int")]
    pub reconsume_times: Option<i64>,
}

/// `MessageProperty`; the guide names the type without fields, `{name, value}` is its shape in
/// Alibaba's API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageProperty {
    #[serde(default, alias = "Name", deserialize_with = "de::string")]
    pub name: Option<String>,
    #[serde(default, alias = "Value", deserialize_with = "de::string")]
    pub value: Option<String>,
}

/// `MsgFoundDo`: one page of a paged message query (by topic, or in a group's DLQ).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Pass it back to fetch further pages of the same query.
    #[serde(default, alias = "TaskId", deserialize_with = "de::string")]
    pub task_id: Option<String>,
    #[serde(default, alias = "MaxPageCount", deserialize_with = "de::int")]
    pub max_page_count: Option<i64>,
    #[serde(default, alias = "CurrentPage", deserialize_with = "de::int")]
    pub current_page: Option<i64>,
    #[serde(
        default,
        rename = "data",
        alias = "Data",
        alias = "msgFoundList",
        alias = "MsgFoundList",
        deserialize_with = "de::list"
    )]
    pub messages: Vec<RestMessage>,
}

/// `Data` of the trend (statistics) calls.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trend {
    #[serde(default, deserialize_with = "de::string")]
    pub title: Option<String>,
    #[serde(default, alias = "Records", deserialize_with = "de::list")]
    pub records: Vec<StatsPoint>,
}

/// `StatsDataDo`: one sample.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct StatsPoint {
    /// Milliseconds since the epoch.
    #[serde(default, alias = "X", deserialize_with = "de::int")]
    pub x: Option<i64>,
    /// TPS or total, as requested.
    #[serde(default, alias = "Y", deserialize_with = "de::float")]
    pub y: Option<f64>,
}

/// One authorization from empower/list ("who is authorized, and how", per the guide, which lists
/// no fields).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmpowerInfo {
    #[serde(default, alias = "Topic", deserialize_with = "de::string")]
    pub topic: Option<String>,
    #[serde(default, alias = "EmpowerUser", deserialize_with = "de::string")]
    pub empower_user: Option<String>,
    /// 2 publish, 4 subscribe, 6 both (as `relation` of empower/create).
    #[serde(default, alias = "Relation", deserialize_with = "de::int")]
    pub relation: Option<i64>,
    #[serde(default, alias = "InstanceId", deserialize_with = "de::string")]
    pub instance_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_scalars() {
        let r: RegionInfo =
            serde_json::from_value(json!({"id": "7", "regionId": 5, "regionName": null, "x": 1})).unwrap();
        assert_eq!(r, RegionInfo { id: Some(7), region_id: Some("5".into()), region_name: None });
        let a: ConsumerAccumulate =
            serde_json::from_value(json!({"onLine": "true", "totalDiff": 3.0, "consumeTps": "1.5", "delayTime": [1]}))
                .unwrap();
        assert_eq!((a.online, a.total_diff, a.consume_tps, a.delay_time), (Some(true), Some(3), Some(1.5), None));
        let empty: ConsumerStatus = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty, ConsumerStatus::default());
    }

    #[test]
    fn pascal_case_and_odd_names() {
        let m: RestMessage = serde_json::from_value(json!({
            "Topic": "T", "BodyCRC": 12, "MsgId": "id", "PropertyList": [{"Name": "KEYS", "Value": "k"}]
        }))
        .unwrap();
        assert_eq!((m.topic.as_deref(), m.body_crc, m.msg_id.as_deref()), (Some("T"), Some(12), Some("id")));
        assert_eq!(m.property_list, [MessageProperty { name: Some("KEYS".into()), value: Some("k".into()) }]);
        let m: RestMessage = serde_json::from_value(json!({"bodyCRC": 1, "propertyList": {"TAGS": "a"}})).unwrap();
        assert_eq!(m.body_crc, Some(1));
        assert_eq!(m.property_list[0].name.as_deref(), Some("TAGS"));
        let s: ConsumerStatus = serde_json::from_value(json!({
            "rebalanceOK": true, "ConnectionSet": {"clientId": "c", "remoteIP": "1.2.3.4"}, "consumeModel": 0
        }))
        .unwrap();
        assert_eq!(s.rebalance_ok, Some(true));
        assert_eq!(s.connection_set[0].remote_ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(s.consume_model.as_deref(), Some("0"));
    }

    #[test]
    fn enums_keep_unknown_values() {
        let t: MessageTrack = serde_json::from_value(json!({"trackType": "CONSUMED_BUT_FILTERED"})).unwrap();
        assert_eq!(t.track_type, Some(TrackType::ConsumedButFiltered));
        let t: MessageTrack = serde_json::from_value(json!({"trackType": "NEW_STATE"})).unwrap();
        assert_eq!(t.track_type.unwrap().as_str(), "NEW_STATE");
        let names: Vec<TopicName> = serde_json::from_value(json!(["A", {"topic": "B"}])).unwrap();
        assert_eq!(names, [TopicName("A".into()), TopicName("B".into())]);
        assert!(serde_json::from_value::<Vec<TopicName>>(json!([1])).is_err());
    }

    #[test]
    fn undocumented_fields_are_kept() {
        let t: TopicInfo = serde_json::from_value(json!({"topic": "T", "messageType": 1, "status": 0})).unwrap();
        assert_eq!((t.topic.as_deref(), t.order_type), (Some("T"), Some(1)));
        assert_eq!(t.extra.get("status"), Some(&json!(0)));
    }
}
