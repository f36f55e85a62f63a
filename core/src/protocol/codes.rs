//! Remoting request and response codes, and the language/version values a client announces.
//! Names follow the Java `RequestCode` / `ResponseCode` constants.

/// Request codes (client to name server / broker, and broker to client).
pub mod request {
    pub const SEND_MESSAGE: i32 = 10;
    pub const PULL_MESSAGE: i32 = 11;
    pub const QUERY_MESSAGE: i32 = 12;
    pub const QUERY_CONSUMER_OFFSET: i32 = 14;
    pub const UPDATE_CONSUMER_OFFSET: i32 = 15;
    pub const UPDATE_AND_CREATE_TOPIC: i32 = 17;
    /// Answer: a `KVTable` body of the broker's runtime figures (version, TPS, disk use).
    pub const GET_BROKER_RUNTIME_INFO: i32 = 28;
    pub const SEARCH_OFFSET_BY_TIMESTAMP: i32 = 29;
    pub const GET_MAX_OFFSET: i32 = 30;
    pub const GET_MIN_OFFSET: i32 = 31;
    pub const VIEW_MESSAGE_BY_ID: i32 = 33;
    pub const HEART_BEAT: i32 = 34;
    pub const UNREGISTER_CLIENT: i32 = 35;
    pub const CONSUMER_SEND_MSG_BACK: i32 = 36;
    pub const END_TRANSACTION: i32 = 37;
    pub const GET_CONSUMER_LIST_BY_GROUP: i32 = 38;
    pub const CHECK_TRANSACTION_STATE: i32 = 39;
    pub const NOTIFY_CONSUMER_IDS_CHANGED: i32 = 40;
    pub const LOCK_BATCH_MQ: i32 = 41;
    pub const UNLOCK_BATCH_MQ: i32 = 42;
    pub const GET_ROUTEINFO_BY_TOPIC: i32 = 105;
    pub const GET_BROKER_CLUSTER_INFO: i32 = 106;
    /// Body: a `SubscriptionGroupConfig` (JSON); creates the group or replaces its config.
    pub const UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: i32 = 200;
    pub const GET_ALL_SUBSCRIPTIONGROUP_CONFIG: i32 = 201;
    pub const GET_TOPIC_STATS_INFO: i32 = 202;
    pub const GET_CONSUMER_CONNECTION_LIST: i32 = 203;
    pub const GET_ALL_TOPIC_LIST_FROM_NAMESERVER: i32 = 206;
    pub const DELETE_SUBSCRIPTIONGROUP: i32 = 207;
    pub const GET_CONSUME_STATS: i32 = 208;
    pub const DELETE_TOPIC_IN_BROKER: i32 = 215;
    pub const DELETE_TOPIC_IN_NAMESRV: i32 = 216;
    pub const RESET_CONSUMER_CLIENT_OFFSET: i32 = 220;
    pub const GET_CONSUMER_STATUS_FROM_CLIENT: i32 = 221;
    /// Admin to broker: reset a group's offsets on a topic; the broker answers a `ResetOffsetBody`.
    pub const INVOKE_BROKER_TO_RESET_OFFSET: i32 = 222;
    /// Answer: a `GroupList` body, the groups with offsets or subscriptions for the topic.
    pub const QUERY_TOPIC_CONSUME_BY_WHO: i32 = 300;
    pub const GET_CONSUMER_RUNNING_INFO: i32 = 307;
    pub const CONSUME_MESSAGE_DIRECTLY: i32 = 309;
    pub const SEND_MESSAGE_V2: i32 = 310;
    pub const SEND_BATCH_MESSAGE: i32 = 320;
}

/// Response codes.
pub mod response {
    pub const SUCCESS: i32 = 0;
    pub const SYSTEM_ERROR: i32 = 1;
    pub const SYSTEM_BUSY: i32 = 2;
    pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;
    pub const FLUSH_DISK_TIMEOUT: i32 = 10;
    pub const SLAVE_NOT_AVAILABLE: i32 = 11;
    pub const FLUSH_SLAVE_TIMEOUT: i32 = 12;
    pub const MESSAGE_ILLEGAL: i32 = 13;
    pub const SERVICE_NOT_AVAILABLE: i32 = 14;
    pub const NO_PERMISSION: i32 = 16;
    pub const TOPIC_NOT_EXIST: i32 = 17;
    pub const PULL_NOT_FOUND: i32 = 19;
    pub const PULL_RETRY_IMMEDIATELY: i32 = 20;
    pub const PULL_OFFSET_MOVED: i32 = 21;
    pub const QUERY_NOT_FOUND: i32 = 22;
    pub const SUBSCRIPTION_GROUP_NOT_EXIST: i32 = 26;
    /// GET_CONSUMER_CONNECTION_LIST: no member of the group is connected to this broker.
    pub const CONSUMER_NOT_ONLINE: i32 = 206;
    pub const FLOW_CONTROL: i32 = 215;
}

/// `LanguageCode` as sent in headers: JSON carries the name, the binary header the ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageCode {
    Java,
    Cpp,
    Dotnet,
    Python,
    Delphi,
    Erlang,
    Ruby,
    Other,
    Http,
    Go,
    Php,
    Oms,
    Rust,
    NodeJs,
}

impl LanguageCode {
    const TABLE: [(LanguageCode, &'static str); 14] = [
        (LanguageCode::Java, "JAVA"),
        (LanguageCode::Cpp, "CPP"),
        (LanguageCode::Dotnet, "DOTNET"),
        (LanguageCode::Python, "PYTHON"),
        (LanguageCode::Delphi, "DELPHI"),
        (LanguageCode::Erlang, "ERLANG"),
        (LanguageCode::Ruby, "RUBY"),
        (LanguageCode::Other, "OTHER"),
        (LanguageCode::Http, "HTTP"),
        (LanguageCode::Go, "GO"),
        (LanguageCode::Php, "PHP"),
        (LanguageCode::Oms, "OMS"),
        (LanguageCode::Rust, "RUST"),
        (LanguageCode::NodeJs, "NODE_JS"),
    ];

    pub fn name(self) -> &'static str {
        Self::TABLE[self.ordinal() as usize].1
    }

    pub fn ordinal(self) -> u8 {
        Self::TABLE.iter().position(|(l, _)| *l == self).unwrap_or(7) as u8
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::TABLE.iter().find(|(_, n)| *n == name).map(|(l, _)| *l)
    }

    pub fn from_ordinal(ordinal: u8) -> Option<Self> {
        Self::TABLE.get(ordinal as usize).map(|(l, _)| *l)
    }
}

/// The MQVersion ordinal this client announces (V5_3_3). Brokers use it to choose behaviour
/// (standard route JSON from 401 on, broker-to-client calls from 62 on).
pub const CLIENT_VERSION: i32 = 479;
/// [`CLIENT_VERSION`] by name, as Java's `MQVersion.getVersionDesc` spells it (consumer running
/// info reports it).
pub const CLIENT_VERSION_DESC: &str = "V5_3_3";
/// Ordinal of V4_9_3: QUERY_MESSAGE is sent with it under ACL so every broker version excludes
/// `_UNIQUE_KEY_QUERY` from the signed content (docs/remoting-protocol.md §8).
pub const VERSION_V4_9_3: i32 = 399;
/// Ordinal of V5_0_0: a broker announcing at least this is a 5.x broker (timer wheel present).
pub const VERSION_V5_0_0: i32 = 413;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_round_trips() {
        for ord in 0..14u8 {
            let l = LanguageCode::from_ordinal(ord).unwrap();
            assert_eq!(l.ordinal(), ord);
            assert_eq!(LanguageCode::from_name(l.name()), Some(l));
        }
        assert_eq!(LanguageCode::Rust.ordinal(), 12);
        assert_eq!(LanguageCode::from_ordinal(14), None);
    }
}
