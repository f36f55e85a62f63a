//! What the `Admin` methods take besides names: a topic's config, a subscription group's
//! settings (its retry policy also comes back in `SubscriptionGroupConfig`) and where to reset
//! offsets, as `#[napi(object)]`s and string enums the core's types are made from. A number
//! must be an integer in the core field's range (see `crate::args`); what a value means and
//! whether the brokers accept it is the core's.

use std::collections::BTreeMap;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use rocketmq_ons::admin as core;

use crate::args::checked_integer;

/// A topic's settings on each master of a cluster (`updateTopic`).
#[napi(object)]
pub struct TopicConfig {
    pub topic_name: String,
    /// Queues consumers read, per broker.
    pub read_queue_nums: f64,
    /// Queues producers write, per broker.
    pub write_queue_nums: f64,
    /// Permission bits: 4 read, 2 write; default 6 (both).
    pub perm: Option<f64>,
    /// An ordered topic (5.x brokers; 4.x brokers ignore it). Default false.
    pub order: Option<bool>,
}

impl TopicConfig {
    pub(crate) fn to_core(&self, env: &Env, what: &str) -> Result<core::TopicConfig> {
        let defaults = core::TopicConfig::new(self.topic_name.clone(), 1);
        Ok(core::TopicConfig {
            read_queue_nums: checked_integer(env, self.read_queue_nums, &format!("{what}.readQueueNums"))?,
            write_queue_nums: checked_integer(env, self.write_queue_nums, &format!("{what}.writeQueueNums"))?,
            perm: match self.perm {
                Some(perm) => checked_integer(env, perm, &format!("{what}.perm"))?,
                None => defaults.perm,
            },
            order: self.order.unwrap_or(defaults.order),
            ..defaults
        })
    }
}

/// The settings `updateSubscriptionGroup` creates or replaces a group with: each field left out
/// takes the Java default (consume enabled, from min and broadcast allowed, 1 retry queue, 16
/// retries, ...), not the group's current value.
#[napi(object)]
pub struct SubscriptionGroupSettings {
    pub group_name: String,
    pub consume_enable: Option<bool>,
    pub consume_from_min_enable: Option<bool>,
    pub consume_broadcast_enable: Option<bool>,
    /// 5.x.
    pub consume_message_orderly: Option<bool>,
    pub retry_queue_nums: Option<f64>,
    pub retry_max_times: Option<f64>,
    /// 5.x.
    pub group_retry_policy: Option<GroupRetryPolicy>,
    pub broker_id: Option<f64>,
    pub which_broker_when_consume_slowly: Option<f64>,
    pub notify_consumer_ids_changed_enable: Option<bool>,
    /// 5.x.
    pub group_sys_flag: Option<f64>,
    /// 5.x.
    pub consume_timeout_minute: Option<f64>,
    /// 5.x: `+key` sets an attribute, `-key` removes it.
    pub attributes: Option<BTreeMap<String, String>>,
}

impl SubscriptionGroupSettings {
    pub(crate) fn to_core(&self, env: &Env, what: &str) -> Result<core::SubscriptionGroupConfig> {
        let d = core::SubscriptionGroupConfig::new(self.group_name.clone());
        let int32 = |v: Option<f64>, field: &str, default: i32| -> Result<i32> {
            v.map_or(Ok(default), |n| checked_integer(env, n, &format!("{what}.{field}")))
        };
        let int64 = |v: Option<f64>, field: &str, default: i64| -> Result<i64> {
            v.map_or(Ok(default), |n| checked_integer(env, n, &format!("{what}.{field}")))
        };
        Ok(core::SubscriptionGroupConfig {
            consume_enable: self.consume_enable.unwrap_or(d.consume_enable),
            consume_from_min_enable: self.consume_from_min_enable.unwrap_or(d.consume_from_min_enable),
            consume_broadcast_enable: self.consume_broadcast_enable.unwrap_or(d.consume_broadcast_enable),
            consume_message_orderly: self.consume_message_orderly.unwrap_or(d.consume_message_orderly),
            retry_queue_nums: int32(self.retry_queue_nums, "retryQueueNums", d.retry_queue_nums)?,
            retry_max_times: int32(self.retry_max_times, "retryMaxTimes", d.retry_max_times)?,
            group_retry_policy: self.group_retry_policy.as_ref().map(GroupRetryPolicy::to_core),
            broker_id: int64(self.broker_id, "brokerId", d.broker_id)?,
            which_broker_when_consume_slowly: int64(
                self.which_broker_when_consume_slowly,
                "whichBrokerWhenConsumeSlowly",
                d.which_broker_when_consume_slowly,
            )?,
            notify_consumer_ids_changed_enable: self
                .notify_consumer_ids_changed_enable
                .unwrap_or(d.notify_consumer_ids_changed_enable),
            group_sys_flag: int32(self.group_sys_flag, "groupSysFlag", d.group_sys_flag)?,
            consume_timeout_minute: int32(
                self.consume_timeout_minute,
                "consumeTimeoutMinute",
                d.consume_timeout_minute,
            )?,
            attributes: self.attributes.clone().unwrap_or_default(),
            group_name: d.group_name,
        })
    }
}

/// 5.x: which back-off a POP consumer's failed messages get (Java `GroupRetryPolicyType`).
#[napi(string_enum)]
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicyType {
    EXPONENTIAL,
    CUSTOMIZED,
}

/// 5.x: a group's retry back-off (Java `GroupRetryPolicy`).
#[napi(object)]
#[derive(Clone)]
pub struct GroupRetryPolicy {
    #[napi(js_name = "type")]
    pub policy_type: RetryPolicyType,
    pub exponential_retry_policy: Option<ExponentialRetryPolicy>,
    pub customized_retry_policy: Option<CustomizedRetryPolicy>,
}

/// `initial * multiplier^n` milliseconds, at most `max`.
#[napi(object)]
#[derive(Clone)]
pub struct ExponentialRetryPolicy {
    pub initial: i64,
    pub max: i64,
    pub multiplier: i64,
}

/// The delay before each retry, in milliseconds.
#[napi(object)]
#[derive(Clone)]
pub struct CustomizedRetryPolicy {
    pub next: Vec<i64>,
}

impl GroupRetryPolicy {
    fn to_core(&self) -> core::GroupRetryPolicy {
        core::GroupRetryPolicy {
            policy_type: match self.policy_type {
                RetryPolicyType::EXPONENTIAL => core::RetryPolicyType::Exponential,
                RetryPolicyType::CUSTOMIZED => core::RetryPolicyType::Customized,
            },
            exponential_retry_policy: self.exponential_retry_policy.as_ref().map(|p| core::ExponentialRetryPolicy {
                initial: p.initial,
                max: p.max,
                multiplier: p.multiplier,
            }),
            customized_retry_policy: self
                .customized_retry_policy
                .as_ref()
                .map(|p| core::CustomizedRetryPolicy { next: p.next.clone() }),
        }
    }
}

impl From<core::GroupRetryPolicy> for GroupRetryPolicy {
    fn from(p: core::GroupRetryPolicy) -> Self {
        GroupRetryPolicy {
            policy_type: match p.policy_type {
                core::RetryPolicyType::Exponential => RetryPolicyType::EXPONENTIAL,
                core::RetryPolicyType::Customized => RetryPolicyType::CUSTOMIZED,
            },
            exponential_retry_policy: p.exponential_retry_policy.map(|e| ExponentialRetryPolicy {
                initial: e.initial,
                max: e.max,
                multiplier: e.multiplier,
            }),
            customized_retry_policy: p.customized_retry_policy.map(|c| CustomizedRetryPolicy { next: c.next }),
        }
    }
}

/// Where `resetOffsets` moves a group's offsets when not given a time (a number of ms since the
/// epoch: the first message stored at or after it).
#[napi(string_enum)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPosition {
    /// The oldest message still stored: everything is consumed again.
    Earliest,
    /// The end of each queue: nothing stored so far is consumed.
    Latest,
}
