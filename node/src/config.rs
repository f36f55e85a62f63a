//! ONS configuration in JS: `PropertyKeyConst` (the property names, each spelled as its value, as
//! in the ONS SDKs) and the conversion of a plain JS object into core `Properties`. What a key
//! means, its default and its range are the core's business (`rocketmq_ons::config`).

use napi::bindgen_prelude::*;
use napi::ValueType;
use napi_derive::napi;
use rocketmq_ons::Properties;

use crate::error;

/// Declares `PropertyKeyConst` once and the list of its names the tests compare with the core.
macro_rules! property_keys {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// ONS property names (`PropertyKeyConst.NAMESRV_ADDR === 'NAMESRV_ADDR'`); a few are this
        /// client's own (SendMsgRetryTimes, HeaderFormat, CompressMsgBodyOverHowmuch,
        /// ConsumeFromWhere, ConsumeTimestamp, OffsetStoreDir, LanguageAsJava, Tls*).
        #[napi(string_enum)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum PropertyKeyConst {
            $($(#[$doc])* $name,)*
        }

        #[cfg(test)]
        const PROPERTY_KEY_NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

property_keys! {
    AccessKey,
    SecretKey,
    SecurityToken,
    OnsChannel,
    NAMESRV_ADDR,
    #[doc = "Deprecated alias of NAMESRV_ADDR."]
    ONSAddr,
    GROUP_ID,
    #[doc = "Deprecated alias of GROUP_ID."]
    ProducerId,
    #[doc = "Deprecated alias of GROUP_ID."]
    ConsumerId,
    GroupId,
    #[doc = "`CLUSTERING` (default) or `BROADCASTING`."]
    MessageModel,
    ConsumeThreadNums,
    MaxReconsumeTimes,
    #[doc = "Minutes."]
    ConsumeTimeout,
    ConsumeMessageBatchMaxSize,
    CheckImmunityTimeInSeconds,
    CheckImmunityTimeInSecs,
    suspendTimeMillis,
    SendMsgTimeoutMillis,
    MaxCachedMessageAmount,
    MaxCachedMessageSizeInMiB,
    maxCachedMessageAmount,
    maxCachedMessageSizeInMiB,
    InstanceName,
    INSTANCE_ID,
    Namespace,
    isVipChannelEnabled,
    MsgTraceSwitch,
    SendMsgRetryTimes,
    #[doc = "`JSON` (default) or `ROCKETMQ`."]
    HeaderFormat,
    CompressMsgBodyOverHowmuch,
    LanguageAsJava,
    #[doc = "`CONSUME_FROM_LAST_OFFSET` (default), `CONSUME_FROM_FIRST_OFFSET` or `CONSUME_FROM_TIMESTAMP`."]
    ConsumeFromWhere,
    ConsumeTimestamp,
    OffsetStoreDir,
    #[doc = "`true` to connect with TLS."]
    TlsEnable,
    #[doc = "PEM file of the CA that signed the servers' certificates (default: system roots)."]
    TlsCaFile,
    #[doc = "`true` to skip certificate verification (tests only)."]
    TlsInsecureSkipVerify,
    #[doc = "The name to verify the servers' certificates against."]
    TlsServerName,
}

/// Values of the `MessageModel` property (ONS `PropertyValueConst`).
#[napi(string_enum)]
#[allow(clippy::upper_case_acronyms)]
pub enum PropertyValueConst {
    CLUSTERING,
    BROADCASTING,
}

/// Reads a JS properties object: string values as they are, numbers and booleans in their JS
/// string form (`ConsumeThreadNums: 8` works), `null`/`undefined` as absent.
pub(crate) fn properties(env: &Env, object: &Object) -> Result<Properties> {
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

#[cfg(test)]
mod tests {
    use rocketmq_ons::config::keys;

    #[test]
    fn property_key_const_matches_the_core_keys() {
        let core = [
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
            keys::CONSUME_TIMEOUT,
            keys::CONSUME_MESSAGE_BATCH_MAX_SIZE,
            keys::CHECK_IMMUNITY_TIME_IN_SECONDS,
            keys::CHECK_IMMUNITY_TIME_IN_SECS,
            keys::SUSPEND_TIME_MILLIS,
            keys::SEND_MSG_TIMEOUT_MILLIS,
            keys::MAX_CACHED_MESSAGE_AMOUNT,
            keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB,
            keys::MAX_CACHED_MESSAGE_AMOUNT_ONS,
            keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB_ONS,
            keys::INSTANCE_NAME,
            keys::INSTANCE_ID,
            keys::NAMESPACE,
            keys::VIP_CHANNEL_ENABLED,
            keys::MSG_TRACE_SWITCH,
            keys::SEND_MSG_RETRY_TIMES,
            keys::HEADER_FORMAT,
            keys::COMPRESS_OVER_BYTES,
            keys::LANGUAGE_AS_JAVA,
            keys::CONSUME_FROM_WHERE,
            keys::CONSUME_TIMESTAMP,
            keys::OFFSET_STORE_DIR,
            keys::TLS_ENABLE,
            keys::TLS_CA_FILE,
            keys::TLS_INSECURE_SKIP_VERIFY,
            keys::TLS_SERVER_NAME,
        ];
        assert_eq!(super::PROPERTY_KEY_NAMES, core.as_slice());
    }
}
