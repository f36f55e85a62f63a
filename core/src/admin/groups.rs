//! Subscription groups (consumer group configs kept by the brokers): create or update
//! (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP 200, the config as a JSON body) and delete
//! (DELETE_SUBSCRIPTIONGROUP 207) on every master of a cluster, as `mqadmin updateSubGroup -c`
//! and `deleteSubGroup -c` do, and list every master's groups (GET_ALL_SUBSCRIPTIONGROUP_CONFIG
//! 201), which `mqadmin exportMetadata -g` also reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{decode_body, validate_group, Admin};
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::codes::request;
use crate::protocol::command::RemotingCommand;
use crate::protocol::headers::{DeleteSubscriptionGroupRequestHeader, RequestHeader};

/// A consumer group's config on a broker: Java `SubscriptionGroupConfig`
/// (`remoting/src/main/java/org/apache/rocketmq/remoting/protocol/subscription/SubscriptionGroupConfig.java`;
/// before 5.0 `common/src/main/java/org/apache/rocketmq/common/subscription/SubscriptionGroupConfig.java`).
/// Serialized with the Java field names, it is the body brokers read and write.
///
/// The fields marked 5.x are unknown to 4.x brokers: they ignore them when a group is created
/// and never report them, so a group read from a 4.x broker shows their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupConfig {
    pub group_name: String,
    /// Whether the group may consume at all.
    pub consume_enable: bool,
    /// A new group with no offset starts from the queue's first message when the queue's
    /// messages are all still stored.
    pub consume_from_min_enable: bool,
    /// Whether broadcast consumption is allowed.
    pub consume_broadcast_enable: bool,
    /// 5.x: the group consumes orderly (POP consumers).
    pub consume_message_orderly: bool,
    /// Queues of the group's retry topic (`%RETRY%group`) on each broker.
    pub retry_queue_nums: i32,
    /// Deliveries of a failed message before it goes to the dead-letter queue.
    pub retry_max_times: i32,
    /// 5.x: retry back-off of POP consumers; `None` leaves the broker's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_retry_policy: Option<GroupRetryPolicy>,
    /// The broker id the group consumes from (0: the master).
    pub broker_id: i64,
    /// The broker id to consume from when the master is slow.
    pub which_broker_when_consume_slowly: i64,
    /// Whether consumers are told when the group's membership changes (rebalance at once).
    pub notify_consumer_ids_changed_enable: bool,
    /// 5.x.
    pub group_sys_flag: i32,
    /// 5.x: consume timeout of push consumers, in minutes.
    pub consume_timeout_minute: i32,
    /// 5.x: group attributes. Sent only when not empty; 5.x brokers take `+key` to set and
    /// `-key` to remove (Java `AttributeParser`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Default for SubscriptionGroupConfig {
    /// The Java defaults.
    fn default() -> Self {
        SubscriptionGroupConfig {
            group_name: String::new(),
            consume_enable: true,
            consume_from_min_enable: true,
            consume_broadcast_enable: true,
            consume_message_orderly: false,
            retry_queue_nums: 1,
            retry_max_times: 16,
            group_retry_policy: None,
            broker_id: 0,
            which_broker_when_consume_slowly: 1,
            notify_consumer_ids_changed_enable: true,
            group_sys_flag: 0,
            consume_timeout_minute: 15,
            attributes: BTreeMap::new(),
        }
    }
}

impl SubscriptionGroupConfig {
    /// A group with the Java defaults.
    pub fn new(group_name: impl Into<String>) -> Self {
        SubscriptionGroupConfig { group_name: group_name.into(), ..Default::default() }
    }
}

/// 5.x: Java `GroupRetryPolicy`: which back-off a POP consumer's failed messages get.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupRetryPolicy {
    #[serde(rename = "type")]
    pub policy_type: RetryPolicyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exponential_retry_policy: Option<ExponentialRetryPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customized_retry_policy: Option<CustomizedRetryPolicy>,
}

/// Java `GroupRetryPolicyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RetryPolicyType {
    Exponential,
    #[default]
    Customized,
}

/// Java `ExponentialRetryPolicy`: `initial * multiplier^n`, at most `max` (milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExponentialRetryPolicy {
    pub initial: i64,
    pub max: i64,
    pub multiplier: i64,
}

impl Default for ExponentialRetryPolicy {
    /// The Java defaults: 5 s, doubling, at most 2 h.
    fn default() -> Self {
        ExponentialRetryPolicy { initial: 5_000, max: 7_200_000, multiplier: 2 }
    }
}

/// Java `CustomizedRetryPolicy`: the delay before each retry, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomizedRetryPolicy {
    pub next: Vec<i64>,
}

/// The subscription groups of one master broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerSubscriptionGroups {
    pub broker_name: String,
    pub addr: String,
    /// Sorted by group name; system groups (`TOOLS_CONSUMER`, `CID_RMQ_SYS_...`) included.
    pub groups: Vec<SubscriptionGroupConfig>,
}

/// Body of GET_ALL_SUBSCRIPTIONGROUP_CONFIG: the broker's `SubscriptionGroupManager` as JSON
/// (`subscriptionGroupTable`, `dataVersion`, in 5.x `forbiddenTable`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionGroupTableBody {
    #[serde(default)]
    subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}

impl Admin {
    /// Creates the group, or replaces its config, on every master broker of `cluster` (as
    /// `mqadmin updateSubGroup -c`), and returns their broker names.
    pub async fn update_subscription_group(
        &self,
        cluster: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<Vec<String>> {
        validate_group(&config.group_name)?;
        let wire = SubscriptionGroupConfig { group_name: self.wire(&config.group_name), ..config.clone() };
        let body = serde_json::to_vec(&wire)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot encode the group config: {e}")))?;
        let masters = self.masters(Some(cluster)).await?;
        let what = format!("update subscription group {}", wire.group_name);
        self.on_each(&masters, |target| {
            let cmd = RemotingCommand::request(request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).with_body(body.clone());
            self.call_broker(target, cmd, &what)
        })
        .await?;
        Ok(masters.into_iter().map(|m| m.name).collect())
    }

    /// Deletes the group's config from every master broker of `cluster` (as `mqadmin
    /// deleteSubGroup -c`), and with `clean_offset` its consumer offsets too; returns the broker
    /// names. Deleting a group a broker does not have succeeds.
    pub async fn delete_subscription_group(
        &self,
        cluster: &str,
        group: &str,
        clean_offset: bool,
    ) -> Result<Vec<String>> {
        validate_group(group)?;
        let wire_group = self.wire(group);
        let masters = self.masters(Some(cluster)).await?;
        let what = format!("delete subscription group {wire_group}");
        self.on_each(&masters, |target| {
            let cmd = DeleteSubscriptionGroupRequestHeader {
                group_name: &wire_group,
                clean_offset,
                remove_offset: clean_offset,
            }
            .command();
            self.call_broker(target, cmd, &what)
        })
        .await?;
        Ok(masters.into_iter().map(|m| m.name).collect())
    }

    /// The subscription groups of every master broker of `cluster`, by broker name.
    pub async fn list_subscription_groups(&self, cluster: &str) -> Result<Vec<BrokerSubscriptionGroups>> {
        let masters = self.masters(Some(cluster)).await?;
        let tables = self
            .on_each(&masters, |target| async {
                let cmd = RemotingCommand::request(request::GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
                let resp = self.call_broker(target, cmd, "list subscription groups").await?;
                decode_subscription_groups(&resp.body)
            })
            .await?;
        Ok(masters
            .into_iter()
            .zip(tables)
            .map(|(target, groups)| BrokerSubscriptionGroups {
                broker_name: target.name,
                addr: target.addr,
                groups: groups
                    .into_iter()
                    .filter(|g| self.listed(&g.group_name))
                    .map(|g| SubscriptionGroupConfig { group_name: self.shown(&g.group_name), ..g })
                    .collect(),
            })
            .collect())
    }
}

/// The groups of a GET_ALL_SUBSCRIPTIONGROUP_CONFIG body, sorted by name; a config without its
/// name takes it from its key.
fn decode_subscription_groups(body: &[u8]) -> Result<Vec<SubscriptionGroupConfig>> {
    let raw: SubscriptionGroupTableBody = decode_body(body, "subscription group table")?;
    Ok(raw
        .subscription_group_table
        .into_iter()
        .map(
            |(name, config)| {
                if config.group_name.is_empty() {
                    SubscriptionGroupConfig { group_name: name, ..config }
                } else {
                    config
                }
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG answers captured from a 5.3.3 and a 4.9.7 broker, trimmed
    /// to two of their groups.
    const GROUPS_5_3_3: &str = r#"{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":1796375886496},"forbiddenTable":{},"subscriptionGroupTable":{"SELF_TEST_C_GROUP":{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"SELF_TEST_C_GROUP","groupRetryPolicy":{"type":"CUSTOMIZED"},"groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1},"GID_capture":{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"GID_capture","groupRetryPolicy":{"type":"CUSTOMIZED"},"groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}}}"#;
    const GROUPS_4_9_7: &str = r#"{"dataVersion":{"counter":1,"timestamp":1796375906041},"subscriptionGroupTable":{"SELF_TEST_C_GROUP":{"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"groupName":"SELF_TEST_C_GROUP","notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1},"GID_capture":{"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"groupName":"GID_capture","notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}}}"#;

    #[test]
    fn group_table_decode() {
        let groups = decode_subscription_groups(GROUPS_5_3_3.as_bytes()).unwrap();
        assert_eq!(groups.len(), 2);
        let expected = SubscriptionGroupConfig {
            group_retry_policy: Some(GroupRetryPolicy::default()),
            ..SubscriptionGroupConfig::new("GID_capture")
        };
        assert_eq!(groups[0], expected);
        // 4.9.7 lacks the 5.x fields: they read as the Java defaults.
        let old = decode_subscription_groups(GROUPS_4_9_7.as_bytes()).unwrap();
        assert_eq!(old[0], SubscriptionGroupConfig::new("GID_capture"));
        assert_eq!(old[1].group_name, "SELF_TEST_C_GROUP");
        // A config without its name takes the key's.
        let g = decode_subscription_groups(br#"{"subscriptionGroupTable":{"G":{"retryMaxTimes":3}}}"#).unwrap();
        assert_eq!((g[0].group_name.as_str(), g[0].retry_max_times), ("G", 3));
    }

    #[test]
    fn group_config_body_has_the_java_names() {
        let config = SubscriptionGroupConfig {
            retry_max_times: 5,
            consume_broadcast_enable: false,
            group_retry_policy: Some(GroupRetryPolicy {
                policy_type: RetryPolicyType::Exponential,
                exponential_retry_policy: Some(ExponentialRetryPolicy::default()),
                customized_retry_policy: None,
            }),
            ..SubscriptionGroupConfig::new("G")
        };
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "groupName": "G", "consumeEnable": true, "consumeFromMinEnable": true,
                "consumeBroadcastEnable": false, "consumeMessageOrderly": false, "retryQueueNums": 1,
                "retryMaxTimes": 5,
                "groupRetryPolicy": {"type": "EXPONENTIAL",
                                     "exponentialRetryPolicy": {"initial": 5000, "max": 7200000, "multiplier": 2}},
                "brokerId": 0, "whichBrokerWhenConsumeSlowly": 1, "notifyConsumerIdsChangedEnable": true,
                "groupSysFlag": 0, "consumeTimeoutMinute": 15
            })
        );
        // And reads back, the getter-only `retryPolicy` key of Java's answer ignored.
        let mut answer = json;
        answer["groupRetryPolicy"]["retryPolicy"] = serde_json::json!({"initial": 5000});
        assert_eq!(serde_json::from_value::<SubscriptionGroupConfig>(answer).unwrap(), config);
    }
}
