//! One typed request per Open API endpoint of docs/open-api.md §7, with the client-side
//! checks of what the guide documents for each parameter. A check that fails is an
//! [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) naming the endpoint and the
//! parameter as sent on the wire, and nothing is sent.
//!
//! Parameter names are the guide's: camelCase everywhere except the DLQ section (§7.10), which
//! spells them `InstanceId`, `GroupId`, `MsgId`, ...; the guide's tables also write `groupid`
//! for three endpoints where every other table and the prose say `groupId`, which is sent.
//!
//! `instanceId` is `Option` where the guide says an instance without a namespace may leave it
//! out, and required where it does not.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::responses::*;
use crate::error::{Error, Result};

/// How a request sets the common `_regionId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionParam<'a> {
    /// The client's region (the default).
    Client,
    /// No `_regionId` at all: only region/list.
    Omit,
    /// This region instead of the client's.
    Given(&'a str),
}

/// A request to one Open API endpoint. Implemented for every endpoint of docs/open-api.md §7; a
/// caller can implement it for an endpoint not listed there, or use
/// [`OpenApiClient::call_raw`](super::OpenApiClient::call_raw).
pub trait OpenApiRequest {
    /// The type of the envelope's `data`.
    type Data: DeserializeOwned;
    /// The path, e.g. `/json/topic/create`.
    const PATH: &'static str;
    /// Names under which the guide shows `data` wrapped in an object of its own (as
    /// `InstanceBaseInfo` or `MsgFoundDo`); the inner value is used when present.
    const DATA_WRAPPERS: &'static [&'static str] = &[];

    /// The API's own parameters (common ones are added by the client), after checking them.
    fn to_params(&self) -> Result<Vec<(&'static str, String)>>;

    fn region(&self) -> RegionParam<'_> {
        RegionParam::Client
    }
}

/// Collects the parameters of one request and names the endpoint in its errors.
struct Params {
    path: &'static str,
    list: Vec<(&'static str, String)>,
}

impl Params {
    fn new(path: &'static str) -> Params {
        Params { path, list: Vec::new() }
    }

    fn invalid(&self, name: &str, why: impl fmt::Display) -> Error {
        Error::invalid_argument(format!("Open API {}: parameter {name} {why}", self.path))
    }

    /// A required string: not empty, no leading or trailing white space.
    fn text(&mut self, name: &'static str, value: &str) -> Result<()> {
        if value.trim().is_empty() {
            return Err(self.invalid(name, "is required and must not be empty"));
        }
        if value.trim() != value {
            return Err(self.invalid(name, format!("{value:?} has leading or trailing white space")));
        }
        self.list.push((name, value.to_owned()));
        Ok(())
    }

    /// An optional string; `None` and `""` leave it out (the guide: an empty value leaves the
    /// field unchanged, docs/open-api.md §7.3).
    fn opt_text(&mut self, name: &'static str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.list.push((name, v.to_owned()));
        }
    }

    fn value(&mut self, name: &'static str, value: impl ToString) {
        self.list.push((name, value.to_string()));
    }

    fn opt_value(&mut self, name: &'static str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.value(name, v);
        }
    }

    fn range(&self, name: &str, value: i64, min: i64, max: i64) -> Result<()> {
        if value < min || value > max {
            return Err(self.invalid(name, format!("is {value}; it must be between {min} and {max}")));
        }
        Ok(())
    }

    /// `beginTime`/`endTime` (milliseconds): not negative, begin not after end.
    fn time_range(&mut self, names: (&'static str, &'static str), begin: i64, end: i64) -> Result<()> {
        if begin < 0 {
            return Err(self.invalid(names.0, format!("is {begin}; a time in milliseconds cannot be negative")));
        }
        if end < begin {
            return Err(self.invalid(names.1, format!("{end} is before {} {begin}", names.0)));
        }
        self.value(names.0, begin);
        self.value(names.1, end);
        Ok(())
    }

    /// Message queries: `currentPage` 1-50 (required), `pageSize` 5-50 (default 20).
    fn message_page(&mut self, names: (&'static str, &'static str), current: u32, size: Option<u32>) -> Result<()> {
        self.range(names.0, current.into(), 1, 50)?;
        if let Some(size) = size {
            self.range(names.1, size.into(), 5, 50)?;
        }
        self.value(names.0, current);
        self.opt_value(names.1, size);
        Ok(())
    }

    fn finish(self) -> Vec<(&'static str, String)> {
        self.list
    }
}

/// The guide's Group ID rule for group/create (docs/open-api.md §7.5): starts with `GID_` or
/// `GID-`, 5 to 64 characters of letters, digits, `-` and `_`. Existing ids (legacy `CID-...`
/// ones included) are not checked beyond being non-empty by the other calls.
pub fn validate_new_group_id(group_id: &str) -> Result<()> {
    let p = Params::new("/json/group/create");
    if !(group_id.starts_with("GID_") || group_id.starts_with("GID-")) {
        return Err(p.invalid("groupId", format!("{group_id:?} must start with \"GID_\" or \"GID-\"")));
    }
    let len = group_id.chars().count();
    if !(5..=64).contains(&len) {
        return Err(p.invalid("groupId", format!("{group_id:?} is {len} characters long; 5 to 64 are allowed")));
    }
    if let Some(c) = group_id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))) {
        return Err(
            p.invalid("groupId", format!("{group_id:?} contains {c:?}; only letters, digits, - and _ are allowed"))
        );
    }
    Ok(())
}

/// The rules for a new topic: not starting with `CID` or `GID` (reserved for group ids,
/// docs/open-api.md §7.4), and the ONS topic rules every producer checks (1-255 of
/// `A-Z a-z 0-9 _ -`).
pub fn validate_new_topic(topic: &str) -> Result<()> {
    let p = Params::new("/json/topic/create");
    if topic.starts_with("CID") || topic.starts_with("GID") {
        return Err(
            p.invalid("topic", format!("{topic:?} must not start with \"CID\" or \"GID\" (reserved for group ids)"))
        );
    }
    // Its messages start with "topic ...".
    crate::message::validate_topic(topic)
        .map_err(|e| Error::invalid_argument(format!("Open API {}: parameter {}", p.path, e.message())))
}

/// Integer-coded parameters: a typed enum with the wire code, and `TryFrom<i64>` for bindings
/// that pass the number.
macro_rules! int_enum {
    ($(#[$meta:meta])* $name:ident, $param:literal { $($(#[$vmeta:meta])* $variant:ident = $code:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The value sent on the wire.
            pub fn code(self) -> i64 {
                match self {
                    $($name::$variant => $code,)*
                }
            }
        }

        impl TryFrom<i64> for $name {
            type Error = Error;

            fn try_from(code: i64) -> Result<Self> {
                match code {
                    $($code => Ok($name::$variant),)*
                    _ => Err(Error::invalid_argument(format!(
                        concat!("parameter ", $param, " is {}; allowed: ", $(stringify!($code), " ",)*),
                        code
                    ))),
                }
            }
        }
    };
}

int_enum! {
    /// `orderType` of topic/create: the kind of messages the topic carries.
    MessageType, "orderType" {
        /// Normal messages.
        Normal = 0,
        /// Partitioned ordered messages.
        PartitionOrder = 1,
        /// Globally ordered messages.
        GlobalOrder = 2,
        /// Transactional messages.
        Transaction = 4,
        /// Scheduled / delayed messages.
        Delay = 5,
    }
}

int_enum! {
    /// `perm` of topic/update.
    TopicPerm, "perm" {
        /// Read and write.
        ReadWrite = 6,
        /// Writing disabled.
        WriteDisabled = 4,
        /// Reading disabled.
        ReadDisabled = 2,
    }
}

int_enum! {
    /// `relation` of the empower (authorization) calls.
    EmpowerRelation, "relation" {
        /// May publish.
        Publish = 2,
        /// May subscribe.
        Subscribe = 4,
        /// May publish and subscribe.
        PublishSubscribe = 6,
    }
}

int_enum! {
    /// `period` of the trend calls: the sampling period in minutes.
    TrendPeriod, "period" {
        OneMinute = 1,
        FiveMinutes = 5,
        TenMinutes = 10,
    }
}

int_enum! {
    /// `type` of the trend calls.
    TrendType, "type" {
        /// Message counts over the period.
        Total = 0,
        /// TPS curve.
        Tps = 1,
    }
}

/// `tunnelType` of vpcTunnel/tunnelSwitch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    AnyTunnel,
    SingleTunnel,
}

impl TunnelType {
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelType::AnyTunnel => "anyTunnel",
            TunnelType::SingleTunnel => "singleTunnel",
        }
    }
}

impl std::str::FromStr for TunnelType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "anyTunnel" => Ok(TunnelType::AnyTunnel),
            "singleTunnel" => Ok(TunnelType::SingleTunnel),
            _ => {
                Err(Error::invalid_argument(format!("parameter tunnelType is {s:?}; allowed: anyTunnel singleTunnel")))
            }
        }
    }
}

/// `type` (and `resetTime`) of consumer/resetOffset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetOffset {
    /// `type=0`: skip every stored message.
    ClearAll,
    /// `type=1`: move the offset to this time (milliseconds since the epoch).
    ToTime(i64),
}

/// Requests whose parameters are all strings, each required or optional.
macro_rules! string_request {
    ($(#[$meta:meta])* $name:ident => $path:literal, $data:ty
        $(, wrappers [$($wrapper:literal),*])? { $($(#[$fmeta:meta])* $field:ident: $kind:ident $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: string_request!(@type $kind),)*
        }

        impl OpenApiRequest for $name {
            type Data = $data;
            const PATH: &'static str = $path;
            $(const DATA_WRAPPERS: &'static [&'static str] = &[$($wrapper),*];)?

            #[allow(unused_mut)]
            fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
                let mut p = Params::new(Self::PATH);
                $(string_request!(@put p $kind $wire self.$field);)*
                Ok(p.finish())
            }
        }
    };
    (@type req) => { String };
    (@type opt) => { Option<String> };
    (@put $p:ident req $wire:literal $value:expr) => { $p.text($wire, &$value)? };
    (@put $p:ident opt $wire:literal $value:expr) => { $p.opt_text($wire, $value.as_deref()) };
}

/// region/list: the regions, whose ids are the `_regionId` of every other call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionListRequest;

impl OpenApiRequest for RegionListRequest {
    type Data = Vec<RegionInfo>;
    const PATH: &'static str = "/json/region/list";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(Vec::new())
    }

    /// The one call the guide exempts from `_regionId` (docs/open-api.md §3).
    fn region(&self) -> RegionParam<'_> {
        RegionParam::Omit
    }
}

/// cluster/list: the clusters of a region (instance/create needs a cluster name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterListRequest {
    /// The region to list; the client's region when `None`.
    pub region_id: Option<String>,
}

impl OpenApiRequest for ClusterListRequest {
    type Data = Vec<ClusterInfo>;
    const PATH: &'static str = "/json/cluster/list";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        if self.region_id.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(Params::new(Self::PATH).invalid("_regionId", "must not be empty"));
        }
        Ok(Vec::new())
    }

    fn region(&self) -> RegionParam<'_> {
        self.region_id.as_deref().map_or(RegionParam::Client, RegionParam::Given)
    }
}

/// vpcTunnel/tunnelSwitch: switches the VPC network type of an instance's cluster. Affects
/// every topic of the cluster; clients must then use the returned name server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelSwitchRequest {
    pub instance_id: String,
    pub tunnel_type: TunnelType,
    /// `slbUrl`, the SLB API.
    pub slb_url: Option<String>,
    /// Switch even when a broker carries more than 10 TPS (default false).
    pub force: Option<bool>,
    /// `vSwitchId`: only with [`TunnelType::SingleTunnel`].
    pub v_switch_id: Option<String>,
}

impl OpenApiRequest for TunnelSwitchRequest {
    type Data = NamesrvAddress;
    const PATH: &'static str = "/json/vpcTunnel/tunnelSwitch";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.value("tunnelType", self.tunnel_type.as_str());
        p.text("instanceId", &self.instance_id)?;
        p.opt_text("slbUrl", self.slb_url.as_deref());
        p.opt_value("force", self.force);
        if self.v_switch_id.is_some() && self.tunnel_type == TunnelType::AnyTunnel {
            return Err(p.invalid("vSwitchId", "only applies to tunnelType singleTunnel"));
        }
        p.opt_text("vSwitchId", self.v_switch_id.as_deref());
        Ok(p.finish())
    }
}

/// The name server address that vpcTunnel/tunnelSwitch returns (the new `NAMESRV_ADDR`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamesrvAddress(pub String);

impl<'de> serde::Deserialize<'de> for NamesrvAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // The guide says "the VIP address, as JSON" without a shape (docs/open-api.md §7.3): a
        // string is used as is, anything else is kept as its JSON text.
        Ok(NamesrvAddress(match Value::deserialize(d)? {
            Value::String(s) => s,
            other => other.to_string(),
        }))
    }
}

string_request! {
    /// instance/baseInfo: an instance's details and TCP endpoint.
    InstanceBaseInfoRequest => "/json/instance/baseInfo", InstanceBaseInfo, wrappers ["instanceBaseInfo", "InstanceBaseInfo"] {
        instance_id: req "instanceId",
    }
}

/// instance/create. Main account only unless granted; at most 500 instances per region; the
/// name must be unique in the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceCreateRequest {
    pub cluster: String,
    /// 3 to 64 characters, Chinese or English.
    pub instance_name: String,
    /// Whether the instance gets its own namespace.
    pub independent_naming: bool,
    pub remark: Option<String>,
    pub max_send_tps: u64,
    pub max_receive_tps: u64,
    pub topic_capacity: Option<u32>,
}

fn instance_name(p: &mut Params, name: &str) -> Result<()> {
    let len = name.chars().count();
    if !(3..=64).contains(&len) {
        return Err(p.invalid("instanceName", format!("{name:?} is {len} characters long; 3 to 64 are allowed")));
    }
    p.text("instanceName", name)
}

impl OpenApiRequest for InstanceCreateRequest {
    type Data = Value;
    const PATH: &'static str = "/json/instance/create";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.text("cluster", &self.cluster)?;
        instance_name(&mut p, &self.instance_name)?;
        p.value("independentNaming", self.independent_naming);
        p.opt_text("remark", self.remark.as_deref());
        p.value("maxSendTps", self.max_send_tps);
        p.value("maxReceiveTps", self.max_receive_tps);
        p.opt_value("topicCapacity", self.topic_capacity);
        Ok(p.finish())
    }
}

string_request! {
    /// instance/delete: only an instance without topics and groups can be deleted.
    InstanceDeleteRequest => "/json/instance/delete", Value {
        instance_id: req "instanceId",
    }
}

string_request! {
    /// instance/list: every instance of the environment.
    InstanceListRequest => "/json/instance/list", Vec<InstanceInfo> {}
}

/// instance/update: new name and/or remark; `None` (or empty) leaves a value unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceUpdateRequest {
    pub instance_id: String,
    /// 3 to 64 characters, unique in the region.
    pub instance_name: Option<String>,
    pub remark: Option<String>,
}

impl OpenApiRequest for InstanceUpdateRequest {
    type Data = Value;
    const PATH: &'static str = "/json/instance/update";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.text("instanceId", &self.instance_id)?;
        if let Some(name) = self.instance_name.as_deref().filter(|n| !n.is_empty()) {
            instance_name(&mut p, name)?;
        }
        p.opt_text("remark", self.remark.as_deref());
        Ok(p.finish())
    }
}

/// topic/create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCreateRequest {
    /// Required for an instance with a namespace.
    pub instance_id: Option<String>,
    /// Must not start with `CID` or `GID`; see [`validate_new_topic`].
    pub topic: String,
    pub order_type: MessageType,
    pub remark: Option<String>,
}

impl OpenApiRequest for TopicCreateRequest {
    type Data = Value;
    const PATH: &'static str = "/json/topic/create";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        validate_new_topic(&self.topic)?;
        p.text("topic", &self.topic)?;
        p.value("orderType", self.order_type.code());
        p.opt_text("remark", self.remark.as_deref());
        Ok(p.finish())
    }
}

string_request! {
    /// topic/delete: also removes the topic's subscriptions.
    TopicDeleteRequest => "/json/topic/delete", Value {
        instance_id: opt "instanceId",
        topic: req "topic",
    }
}

string_request! {
    /// topic/get: a topic's details.
    TopicGetRequest => "/json/topic/get", Vec<TopicInfo> {
        instance_id: opt "instanceId",
        topic: req "topic",
    }
}

/// topic/listInPage: the topics of an instance, a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicListInPageRequest {
    pub instance_id: String,
    /// Only this topic.
    pub topic: Option<String>,
    /// From 1 (the server's default).
    pub current_page: Option<u32>,
    /// The server's default is 20.
    pub page_size: Option<u32>,
}

impl OpenApiRequest for TopicListInPageRequest {
    type Data = Vec<TopicInfo>;
    const PATH: &'static str = "/json/topic/listInPage";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.text("instanceId", &self.instance_id)?;
        p.opt_text("topic", self.topic.as_deref());
        // The guide gives no bounds here, only the defaults (docs/open-api.md §7.4); pages count
        // from 1.
        for (name, value) in [("currentPage", self.current_page), ("pageSize", self.page_size)] {
            if value == Some(0) {
                return Err(p.invalid(name, "must be at least 1"));
            }
            p.opt_value(name, value);
        }
        Ok(p.finish())
    }
}

/// topic/update: the topic's read/write permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicUpdateRequest {
    pub instance_id: Option<String>,
    pub topic: String,
    pub perm: TopicPerm,
}

impl OpenApiRequest for TopicUpdateRequest {
    type Data = Value;
    const PATH: &'static str = "/json/topic/update";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        p.text("topic", &self.topic)?;
        p.value("perm", self.perm.code());
        Ok(p.finish())
    }
}

string_request! {
    /// topic/listNames: the names of all topics.
    TopicListNamesRequest => "/json/topic/listNames", Vec<TopicName> {
        instance_id: opt "instanceId",
    }
}

string_request! {
    /// topic/subDetail: the online groups subscribing to a topic.
    TopicSubDetailRequest => "/json/topic/subDetail", TopicSubDetail {
        instance_id: opt "instanceId",
        topic: req "topic",
    }
}

/// group/create. The id cannot be changed later.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupCreateRequest {
    pub instance_id: String,
    /// See [`validate_new_group_id`].
    pub group_id: String,
    pub remark: Option<String>,
}

impl OpenApiRequest for GroupCreateRequest {
    type Data = GroupCreated;
    const PATH: &'static str = "/json/group/create";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.text("instanceId", &self.instance_id)?;
        validate_new_group_id(&self.group_id)?;
        p.value("groupId", &self.group_id);
        p.opt_text("remark", self.remark.as_deref());
        Ok(p.finish())
    }
}

string_request! {
    /// group/delete.
    GroupDeleteRequest => "/json/group/delete", Value {
        instance_id: opt "instanceId",
        group_id: req "groupId",
    }
}

string_request! {
    /// group/list: the group ids (all, or only `group_id`).
    GroupListRequest => "/json/group/list", Vec<GroupInfo> {
        instance_id: opt "instanceId",
        group_id: opt "groupId",
    }
}

string_request! {
    /// group/subDetail: what an online group subscribes to (nothing when it is offline).
    GroupSubDetailRequest => "/json/group/subDetail", GroupSubDetail {
        instance_id: opt "instanceId",
        group_id: req "groupId",
    }
}

/// group/consumerUpdate: whether the group may read messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupConsumerUpdateRequest {
    pub instance_id: Option<String>,
    pub group_id: String,
    pub read_enable: bool,
}

impl OpenApiRequest for GroupConsumerUpdateRequest {
    type Data = Value;
    const PATH: &'static str = "/json/group/consumerUpdate";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        p.text("groupId", &self.group_id)?;
        p.value("readEnable", self.read_enable);
        Ok(p.finish())
    }
}

/// consumer/accumulate: a group's backlog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerAccumulateRequest {
    pub instance_id: Option<String>,
    pub group_id: String,
    /// Include the backlog per topic.
    pub detail: Option<bool>,
}

impl OpenApiRequest for ConsumerAccumulateRequest {
    type Data = ConsumerAccumulate;
    const PATH: &'static str = "/json/consumer/accumulate";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        p.text("groupId", &self.group_id)?;
        p.opt_value("detail", self.detail);
        Ok(p.finish())
    }
}

/// consumer/status: a group's detailed state. Slow on the server; not for frequent polling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerStatusRequest {
    pub instance_id: Option<String>,
    pub group_id: String,
    /// Fill the per-topic and per-client lists.
    pub detail: Option<bool>,
    /// Include the clients' jstack; needs `detail`.
    pub need_jstack: Option<bool>,
}

impl OpenApiRequest for ConsumerStatusRequest {
    type Data = ConsumerStatus;
    const PATH: &'static str = "/json/consumer/status";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        p.text("groupId", &self.group_id)?;
        if self.need_jstack == Some(true) && self.detail != Some(true) {
            return Err(p.invalid("needJstack", "needs detail=true (the API returns jstack only with the details)"));
        }
        p.opt_value("detail", self.detail);
        p.opt_value("needJstack", self.need_jstack);
        Ok(p.finish())
    }
}

string_request! {
    /// consumer/getConnection: the online clients of a group.
    ConsumerConnectionRequest => "/json/consumer/getConnection", Vec<ConsumerConnection> {
        instance_id: opt "instanceId",
        group_id: req "groupId",
    }
}

string_request! {
    /// consumer/timespan: the stored time range of a topic and the group's consume time.
    ConsumerTimespanRequest => "/json/consumer/timespan", ConsumerTimespan {
        instance_id: opt "instanceId",
        group_id: req "groupId",
        topic: req "topic",
    }
}

/// consumer/resetOffset: clears the backlog or moves the group's offset to a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerResetOffsetRequest {
    pub instance_id: Option<String>,
    pub group_id: String,
    pub topic: String,
    pub reset: ResetOffset,
}

impl OpenApiRequest for ConsumerResetOffsetRequest {
    type Data = Value;
    const PATH: &'static str = "/json/consumer/resetOffset";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        p.text("groupId", &self.group_id)?;
        p.text("topic", &self.topic)?;
        match self.reset {
            ResetOffset::ClearAll => p.value("type", 0),
            ResetOffset::ToTime(ms) if ms < 0 => {
                return Err(p.invalid("resetTime", format!("is {ms}; a time in milliseconds cannot be negative")))
            }
            ResetOffset::ToTime(ms) => {
                p.value("type", 1);
                p.value("resetTime", ms);
            }
        }
        Ok(p.finish())
    }
}

string_request! {
    /// message/trace: whether each group consumed a message.
    MessageTraceRequest => "/json/message/trace", Vec<MessageTrack> {
        instance_id: opt "instanceId",
        topic: req "topic",
        msg_id: req "msgId",
    }
}

string_request! {
    /// message/getById: one message by its id.
    MessageByIdRequest => "/json/message/getById", RestMessage {
        instance_id: opt "instanceId",
        topic: req "topic",
        msg_id: req "msgId",
    }
}

string_request! {
    /// message/getByKey: the messages with a key (keys need not be unique).
    MessageByKeyRequest => "/json/message/getByKey", Vec<RestMessage> {
        instance_id: opt "instanceId",
        topic: req "topic",
        key: req "key",
    }
}

/// message/getByPagedTopic: the messages of a topic in a time range, a page at a time. The
/// first call creates a query task; later pages pass its `task_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageByTopicRequest {
    pub instance_id: Option<String>,
    pub topic: String,
    pub begin_time: i64,
    pub end_time: i64,
    pub task_id: Option<String>,
    /// 1 to 50.
    pub current_page: u32,
    /// 5 to 50 (the server's default is 20).
    pub page_size: Option<u32>,
}

impl OpenApiRequest for MessageByTopicRequest {
    type Data = MessagePage;
    const PATH: &'static str = "/json/message/getByPagedTopic";
    const DATA_WRAPPERS: &'static [&'static str] = &["msgFoundDo", "MsgFoundDo"];

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("instanceId", self.instance_id.as_deref());
        p.text("topic", &self.topic)?;
        p.time_range(("beginTime", "endTime"), self.begin_time, self.end_time)?;
        p.opt_text("taskId", self.task_id.as_deref());
        p.message_page(("currentPage", "pageSize"), self.current_page, self.page_size)?;
        Ok(p.finish())
    }
}

/// trend/topicInputTps: messages written to a topic over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInputTpsRequest {
    pub instance_id: Option<String>,
    pub topic: String,
    pub begin_time: i64,
    pub end_time: i64,
    pub period: TrendPeriod,
    pub trend_type: TrendType,
}

/// trend/groupOutputTps: messages a group consumed from a topic over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOutputTpsRequest {
    pub instance_id: Option<String>,
    pub topic: String,
    pub group_id: String,
    pub begin_time: i64,
    pub end_time: i64,
    pub period: TrendPeriod,
    pub trend_type: TrendType,
}

fn trend_params(
    path: &'static str,
    instance_id: Option<&str>,
    topic: &str,
    group_id: Option<&str>,
    (begin, end): (i64, i64),
    period: TrendPeriod,
    trend_type: TrendType,
) -> Result<Vec<(&'static str, String)>> {
    let mut p = Params::new(path);
    p.opt_text("instanceId", instance_id);
    p.text("topic", topic)?;
    if let Some(group_id) = group_id {
        p.text("groupId", group_id)?;
    }
    p.time_range(("beginTime", "endTime"), begin, end)?;
    p.value("period", period.code());
    p.value("type", trend_type.code());
    Ok(p.finish())
}

impl OpenApiRequest for TopicInputTpsRequest {
    type Data = Trend;
    const PATH: &'static str = "/json/trend/topicInputTps";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let times = (self.begin_time, self.end_time);
        trend_params(Self::PATH, self.instance_id.as_deref(), &self.topic, None, times, self.period, self.trend_type)
    }
}

impl OpenApiRequest for GroupOutputTpsRequest {
    type Data = Trend;
    const PATH: &'static str = "/json/trend/groupOutputTps";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let (instance, group) = (self.instance_id.as_deref(), Some(self.group_id.as_str()));
        let times = (self.begin_time, self.end_time);
        trend_params(Self::PATH, instance, &self.topic, group, times, self.period, self.trend_type)
    }
}

/// empower/create: lets another main account (by user id) publish and/or subscribe to a topic
/// the caller owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmpowerCreateRequest {
    pub instance_id: String,
    pub empower_user: u64,
    pub topic: String,
    pub relation: EmpowerRelation,
}

/// empower/createBySub: the same for a sub-account of the caller. The guide types
/// `empowerUser` Long (docs/open-api.md §7.9) but describes it as the sub-account's *name*, so
/// any non-empty text is accepted here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmpowerCreateBySubRequest {
    pub instance_id: String,
    pub empower_user: String,
    pub topic: String,
    pub relation: EmpowerRelation,
}

/// empower/delete: removes an authorization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmpowerDeleteRequest {
    pub instance_id: String,
    pub empower_user: u64,
    pub topic: String,
}

/// empower/list: the authorizations of a topic (the guide requires `empowerUser` here too,
/// docs/open-api.md §7.9).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmpowerListRequest {
    pub instance_id: String,
    pub empower_user: u64,
    pub topic: String,
}

fn empower_params(
    path: &'static str,
    instance_id: &str,
    empower_user: &str,
    topic: &str,
    relation: Option<EmpowerRelation>,
) -> Result<Vec<(&'static str, String)>> {
    let mut p = Params::new(path);
    p.text("instanceId", instance_id)?;
    p.text("empowerUser", empower_user)?;
    p.text("topic", topic)?;
    p.opt_value("relation", relation.map(EmpowerRelation::code));
    Ok(p.finish())
}

impl OpenApiRequest for EmpowerCreateRequest {
    type Data = Value;
    const PATH: &'static str = "/json/empower/create";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let user = self.empower_user.to_string();
        empower_params(Self::PATH, &self.instance_id, &user, &self.topic, Some(self.relation))
    }
}

impl OpenApiRequest for EmpowerCreateBySubRequest {
    type Data = Value;
    const PATH: &'static str = "/json/empower/createBySub";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        empower_params(Self::PATH, &self.instance_id, &self.empower_user, &self.topic, Some(self.relation))
    }
}

impl OpenApiRequest for EmpowerDeleteRequest {
    type Data = Value;
    const PATH: &'static str = "/json/empower/delete";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        empower_params(Self::PATH, &self.instance_id, &self.empower_user.to_string(), &self.topic, None)
    }
}

impl OpenApiRequest for EmpowerListRequest {
    type Data = Vec<EmpowerInfo>;
    const PATH: &'static str = "/json/empower/list";

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        empower_params(Self::PATH, &self.instance_id, &self.empower_user.to_string(), &self.topic, None)
    }
}

string_request! {
    /// message/getByIdInDLQ: one dead-letter message of a group.
    DlqMessageByIdRequest => "/json/message/getByIdInDLQ", RestMessage {
        instance_id: opt "InstanceId",
        group_id: req "GroupId",
        msg_id: req "MsgId",
    }
}

/// message/getByPagedDLQ: a group's dead-letter messages in a time range, a page at a time
/// (task ids as in [`MessageByTopicRequest`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DlqMessagesRequest {
    pub instance_id: Option<String>,
    pub group_id: String,
    pub begin_time: i64,
    pub end_time: i64,
    pub task_id: Option<String>,
    /// 1 to 50.
    pub current_page: u32,
    /// 5 to 50 (the server's default is 20).
    pub page_size: Option<u32>,
}

impl OpenApiRequest for DlqMessagesRequest {
    type Data = MessagePage;
    const PATH: &'static str = "/json/message/getByPagedDLQ";
    const DATA_WRAPPERS: &'static [&'static str] = &["msgFoundDo", "MsgFoundDo"];

    fn to_params(&self) -> Result<Vec<(&'static str, String)>> {
        let mut p = Params::new(Self::PATH);
        p.opt_text("InstanceId", self.instance_id.as_deref());
        p.text("GroupId", &self.group_id)?;
        p.time_range(("BeginTime", "EndTime"), self.begin_time, self.end_time)?;
        p.opt_text("TaskId", self.task_id.as_deref());
        p.message_page(("CurrentPage", "PageSize"), self.current_page, self.page_size)?;
        Ok(p.finish())
    }
}

string_request! {
    /// message/resendByIdInDLQ: delivers a dead-letter message to the group once more.
    DlqResendRequest => "/json/message/resendByIdInDLQ", Value {
        instance_id: opt "InstanceId",
        msg_id: req "MsgId",
        group_id: req "GroupId",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn err<R: OpenApiRequest>(r: &R) -> String {
        let e = r.to_params().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains(R::PATH), "{e}");
        e.message().to_owned()
    }

    #[test]
    fn group_ids_for_create() {
        for ok in ["GID_a", "GID-abc", "GID_A-b_9", &format!("GID_{}", "x".repeat(60))] {
            validate_new_group_id(ok).unwrap();
        }
        let req = |g: &str| GroupCreateRequest { instance_id: "MQ_INST_1".into(), group_id: g.into(), remark: None };
        assert!(err(&req("CID_abc")).contains("must start with \"GID_\" or \"GID-\""));
        assert!(err(&req("gid_abc")).contains("groupId"));
        assert!(err(&req("GID_")).contains("4 characters long; 5 to 64"));
        assert!(err(&req(&format!("GID_{}", "x".repeat(61)))).contains("65 characters"));
        assert!(err(&req("GID_a.b")).contains("'.'"));
        let m = err(&GroupCreateRequest { instance_id: String::new(), ..req("GID_ok") });
        assert!(m.contains("instanceId is required"), "{m}");
        // Other calls take existing ids as they are, legacy CID ones included.
        let del = GroupDeleteRequest { instance_id: None, group_id: "CID-legacy".into() };
        assert_eq!(del.to_params().unwrap(), [("groupId", "CID-legacy".to_owned())]);
        assert!(err(&GroupDeleteRequest::default()).contains("groupId is required"));
    }

    #[test]
    fn topics_for_create() {
        let req = |t: &str| TopicCreateRequest {
            instance_id: Some("MQ_INST_1".into()),
            topic: t.into(),
            order_type: MessageType::Transaction,
            remark: Some("r".into()),
        };
        let params = req("T_orders").to_params().unwrap();
        let expect = [("instanceId", "MQ_INST_1"), ("topic", "T_orders"), ("orderType", "4"), ("remark", "r")];
        assert_eq!(params, expect.map(|(k, v)| (k, v.to_owned())));
        for bad in ["CID_x", "GIDx", "GID-x"] {
            assert!(err(&req(bad)).contains("must not start with \"CID\" or \"GID\""), "{bad}");
        }
        assert!(err(&req("a b")).contains("parameter topic"));
        assert!(err(&req("")).contains("topic"));
    }

    #[test]
    fn enum_codes() {
        assert_eq!(MessageType::try_from(5).unwrap(), MessageType::Delay);
        let e = MessageType::try_from(3).unwrap_err();
        assert_eq!(e.message(), "parameter orderType is 3; allowed: 0 1 2 4 5 ");
        assert!(TopicPerm::try_from(7).unwrap_err().message().contains("perm is 7; allowed: 6 4 2"));
        assert!(EmpowerRelation::try_from(1).unwrap_err().message().contains("relation"));
        assert_eq!(TrendPeriod::try_from(10).unwrap(), TrendPeriod::TenMinutes);
        assert!(TrendType::try_from(2).is_err());
        assert_eq!("singleTunnel".parse::<TunnelType>().unwrap(), TunnelType::SingleTunnel);
        assert!("AnyTunnel".parse::<TunnelType>().unwrap_err().message().contains("tunnelType"));
    }

    #[test]
    fn pages_and_times() {
        let req = MessageByTopicRequest {
            topic: "T".into(),
            begin_time: 1,
            end_time: 2,
            current_page: 1,
            page_size: Some(5),
            ..Default::default()
        };
        req.to_params().unwrap();
        assert!(err(&MessageByTopicRequest { page_size: Some(4), ..req.clone() })
            .contains("pageSize is 4; it must be between 5 and 50"));
        assert!(err(&MessageByTopicRequest { page_size: Some(51), ..req.clone() }).contains("pageSize"));
        assert!(err(&MessageByTopicRequest { current_page: 0, ..req.clone() }).contains("currentPage is 0"));
        assert!(err(&MessageByTopicRequest { current_page: 51, ..req.clone() }).contains("currentPage"));
        assert!(
            err(&MessageByTopicRequest { begin_time: 3, ..req.clone() }).contains("endTime 2 is before beginTime 3")
        );
        assert!(err(&MessageByTopicRequest { begin_time: -1, end_time: 0, ..req.clone() }).contains("beginTime"));
        let dlq =
            DlqMessagesRequest { group_id: "GID_x".into(), current_page: 1, page_size: Some(3), ..Default::default() };
        assert!(err(&dlq).contains("PageSize is 3"));
        let list = TopicListInPageRequest { instance_id: "i".into(), page_size: Some(0), ..Default::default() };
        assert!(err(&list).contains("pageSize must be at least 1"));
    }

    #[test]
    fn other_documented_constraints() {
        let create = InstanceCreateRequest {
            cluster: "c".into(),
            instance_name: "ab".into(),
            max_send_tps: 1000,
            max_receive_tps: 2000,
            ..Default::default()
        };
        assert!(err(&create).contains("instanceName \"ab\" is 2 characters long; 3 to 64"));
        let ok = InstanceCreateRequest { instance_name: "实例名".into(), ..create.clone() };
        assert_eq!(ok.to_params().unwrap()[1], ("instanceName", "实例名".to_owned()));
        let update =
            InstanceUpdateRequest { instance_id: "i".into(), instance_name: Some(String::new()), remark: None };
        assert_eq!(update.to_params().unwrap(), [("instanceId", "i".to_owned())]);
        let status = ConsumerStatusRequest { group_id: "GID_x".into(), need_jstack: Some(true), ..Default::default() };
        assert!(err(&status).contains("needJstack needs detail=true"));
        let tunnel = TunnelSwitchRequest {
            instance_id: "i".into(),
            tunnel_type: TunnelType::AnyTunnel,
            slb_url: None,
            force: Some(true),
            v_switch_id: Some("vsw".into()),
        };
        assert!(err(&tunnel).contains("vSwitchId only applies to tunnelType singleTunnel"));
        let reset = ConsumerResetOffsetRequest {
            instance_id: None,
            group_id: "GID_x".into(),
            topic: "T".into(),
            reset: ResetOffset::ToTime(-5),
        };
        assert!(err(&reset).contains("resetTime"));
        let reset = ConsumerResetOffsetRequest { reset: ResetOffset::ToTime(1_600_000_000_000), ..reset };
        let params = reset.to_params().unwrap();
        assert!(params.contains(&("type", "1".into())) && params.contains(&("resetTime", "1600000000000".into())));
        assert!(err(&MessageTraceRequest { topic: " T".into(), msg_id: "m".into(), ..Default::default() })
            .contains("leading or trailing white space"));
        assert!(err(&ClusterListRequest { region_id: Some(" ".into()) }).contains("_regionId"));
        let sub = EmpowerCreateBySubRequest {
            instance_id: "i".into(),
            empower_user: String::new(),
            topic: "T".into(),
            relation: EmpowerRelation::Subscribe,
        };
        assert!(err(&sub).contains("empowerUser is required"));
    }

    #[test]
    fn dlq_sends_the_documented_pascal_case_names() {
        let req = DlqResendRequest { instance_id: Some("i".into()), msg_id: "m".into(), group_id: "GID_g".into() };
        let names: Vec<&str> = req.to_params().unwrap().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["InstanceId", "MsgId", "GroupId"]);
    }
}
