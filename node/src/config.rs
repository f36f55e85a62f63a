//! ONS configuration in JS: `PropertyKeyConst` (the property names, each spelled as its value, as
//! in the ONS SDKs) and the conversion of a plain JS object into core `Properties`. What a key
//! means, its default and its range are the core's business (`rocketmq_ons::config`).

use napi::bindgen_prelude::*;
use napi::ValueType;
use napi_derive::napi;
use rocketmq_ons::Properties;

use crate::error;

/// Declares `PropertyKeyConst` once and the (member, value) list the test compares with the
/// core's catalogue of keys (`rocketmq_ons::config::catalogue`, docs/configuration-keys.md).
macro_rules! property_keys {
    ($($name:ident = $value:literal,)*) => {
        /// ONS property names, as the ONS Java SDK's `PropertyKeyConst`: each member holds Java's
        /// value (`PropertyKeyConst.SuspendTimeMillis === 'suspendTimeMillis'`); every spelling in
        /// docs/configuration-keys.md is read, and an unknown name is an error.
        #[napi(string_enum)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum PropertyKeyConst {
            $(#[napi(value = $value)] $name,)*
        }

        #[cfg(test)]
        const PROPERTY_KEYS: &[(&str, &str)] = &[$((stringify!($name), $value)),*];
    };
}

property_keys! {
    NAMESRV_ADDR = "NAMESRV_ADDR",
    ONSAddr = "ONSAddr",
    GROUP_ID = "GROUP_ID",
    ProducerId = "ProducerId",
    ConsumerId = "ConsumerId",
    AccessKey = "AccessKey",
    SecretKey = "SecretKey",
    SecurityToken = "SecurityToken",
    OnsChannel = "OnsChannel",
    INSTANCE_ID = "INSTANCE_ID",
    Namespace = "Namespace",
    InstanceName = "InstanceName",
    MessageModel = "MessageModel",
    SendMsgTimeoutMillis = "SendMsgTimeoutMillis",
    SendMsgRetryTimes = "SendMsgRetryTimes",
    ConsumeThreadNums = "ConsumeThreadNums",
    MaxReconsumeTimes = "maxReconsumeTimes",
    ConsumeTimeout = "consumeTimeout",
    ConsumeMessageBatchMaxSize = "ConsumeMessageBatchMaxSize",
    CheckImmunityTimeInSeconds = "CheckImmunityTimeInSeconds",
    SuspendTimeMillis = "suspendTimeMillis",
    MaxCachedMessageAmount = "maxCachedMessageAmount",
    MaxCachedMessageSizeInMiB = "maxCachedMessageSizeInMiB",
    MAX_BATCH_MESSAGE_COUNT = "maxBatchMessageCount",
    BatchConsumeMaxAwaitDurationInSeconds = "batchConsumeMaxAwaitDurationInSeconds",
    ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME = "ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME",
    isVipChannelEnabled = "isVipChannelEnabled",
    MsgTraceSwitch = "MsgTraceSwitch",
    RAM_ROLE_NAME = "RamRoleName",
    MQType = "MQType",
    PostSubscriptionWhenPull = "PostSubscriptionWhenPull",
    MsgTraceSelectQueueEnable = "MsgTraceSelectQueueEnable",
    MqttMessageId = "mqttMessageId",
    MqttMessage = "mqttMessage",
    MqttPublishRetain = "mqttRetain",
    MqttPublishDubFlag = "mqttPublishDubFlag",
    MqttSecondTopic = "mqttSecondTopic",
    MqttClientId = "clientId",
    MqttQOS = "qoslevel",
    EXACTLYONCE_DELIVERY = "exactlyOnceDelivery",
    EXACTLYONCE_RM_REFRESHINTERVAL = "exactlyOnceRmRefreshInterval",
    ENABLE_ORDERLY_CONSUME_ACCELERATOR = "enableOrderlyConsumeAccelerator",
    AUTO_COMMIT = "autoCommit",
    AUTO_COMMIT_INTERVAL_MILLIS = "autoCommitIntervalMillis",
    POLL_TIMEOUT_MILLIS = "pollTimeoutMillis",
    shardingKey = "shardingKey",
    HeaderFormat = "HeaderFormat",
    CompressMsgBodyOverHowmuch = "CompressMsgBodyOverHowmuch",
    CompressType = "CompressType",
    CompressLevel = "CompressLevel",
    LanguageAsJava = "LanguageAsJava",
    TRACE_TOPIC_NAME = "traceTopicName",
    AccessChannel = "AccessChannel",
    ConsumeFromWhere = "ConsumeFromWhere",
    ConsumeTimestamp = "ConsumeTimestamp",
    OffsetStoreDir = "OffsetStoreDir",
    TlsEnable = "TlsEnable",
    TlsCaFile = "TlsCaFile",
    TlsInsecureSkipVerify = "TlsInsecureSkipVerify",
    TlsServerName = "TlsServerName",
    AllowUnknownProperties = "AllowUnknownProperties",
}

/// Values of the `MessageModel` property (ONS `PropertyValueConst`).
#[napi(string_enum)]
#[allow(clippy::upper_case_acronyms)]
pub enum PropertyValueConst {
    CLUSTERING,
    BROADCASTING,
}

/// Reads a JS properties object: string values as they are, numbers and booleans in their JS
/// string form (`ConsumeThreadNums: 8` works), `null`/`undefined` as absent. napi-rs takes any
/// value for an `Object` parameter; anything but an object is a `TypeError` here.
///
/// Every client is made from properties, on the JS thread that will see its log: the log's
/// default destination is attached here (see `log`).
pub(crate) fn properties(env: &Env, object: &Object) -> Result<Properties> {
    // SAFETY: a value of this env, only inspected.
    let given = unsafe { Unknown::from_raw_unchecked(env.raw(), object.raw()) }.get_type()?;
    if given != ValueType::Object {
        let got = crate::js_call::typeof_name(given);
        return Err(error::type_error(
            env,
            format!("properties must be an object of property names and values; got {got}"),
        ));
    }
    crate::log::attach(env)?;
    let mut props = Properties::new();
    for key in Object::keys(object)? {
        let value: Unknown = object.get_named_property(&key)?;
        match value.get_type()? {
            ValueType::Undefined | ValueType::Null => {}
            ValueType::String | ValueType::Number | ValueType::Boolean | ValueType::BigInt => {
                let text = value.coerce_to_string()?.into_utf8()?.into_owned()?;
                props.set(key, text);
            }
            other => {
                return Err(error::invalid_config(
                    env,
                    format!("property {key} must be a string, number or boolean, got {other}"),
                ))
            }
        }
    }
    Ok(props)
}

/// `updateCredential(properties)` of every producer and consumer class: the properties read as
/// for creation, the rotation itself the core's (AccessKey and SecretKey required).
pub(crate) fn update_credential(
    env: &Env,
    client: &dyn ons_binding_support::ClientLifecycle,
    object: &Object,
) -> Result<()> {
    let props = properties(env, object)?;
    client.update_client_credential(&props).map_err(|e| error::to_js(env, &e))
}

#[cfg(test)]
mod tests {
    use rocketmq_ons::config::catalogue;

    #[test]
    fn property_key_const_is_the_catalogue() {
        let expected: Vec<(&str, &str)> = catalogue::binding_constants().iter().map(|c| (c.member, c.value)).collect();
        assert_eq!(super::PROPERTY_KEYS, expected.as_slice());
    }
}
