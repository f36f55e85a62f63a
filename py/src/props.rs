//! ONS properties from Python: a mapping of `PropertyKeyConst` names, keyword arguments in
//! snake case (`namesrv_addr=...`) or by their ONS name, and the `PropertyKeyConst` class
//! itself. The values are the core's key constants; only the attribute and keyword spellings
//! are decided here.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};
use rocketmq_ons::config::keys;
use rocketmq_ons::Properties;

/// (PropertyKeyConst attribute, keyword argument, core key).
pub(crate) const PROPERTY_KEYS: &[(&str, &str, &str)] = &[
    ("AccessKey", "access_key", keys::ACCESS_KEY),
    ("SecretKey", "secret_key", keys::SECRET_KEY),
    ("SecurityToken", "security_token", keys::SECURITY_TOKEN),
    ("OnsChannel", "ons_channel", keys::ONS_CHANNEL),
    ("NAMESRV_ADDR", "namesrv_addr", keys::NAMESRV_ADDR),
    ("ONSAddr", "ons_addr", keys::ONS_ADDR),
    ("GROUP_ID", "group_id", keys::GROUP_ID),
    ("ProducerId", "producer_id", keys::PRODUCER_ID),
    ("ConsumerId", "consumer_id", keys::CONSUMER_ID),
    ("MessageModel", "message_model", keys::MESSAGE_MODEL),
    ("ConsumeThreadNums", "consume_thread_nums", keys::CONSUME_THREAD_NUMS),
    ("MaxReconsumeTimes", "max_reconsume_times", keys::MAX_RECONSUME_TIMES),
    ("ConsumeTimeout", "consume_timeout", keys::CONSUME_TIMEOUT),
    ("ConsumeMessageBatchMaxSize", "consume_message_batch_max_size", keys::CONSUME_MESSAGE_BATCH_MAX_SIZE),
    ("CheckImmunityTimeInSeconds", "check_immunity_time_in_seconds", keys::CHECK_IMMUNITY_TIME_IN_SECONDS),
    ("SuspendTimeMillis", "suspend_time_millis", keys::SUSPEND_TIME_MILLIS),
    ("SendMsgTimeoutMillis", "send_msg_timeout_millis", keys::SEND_MSG_TIMEOUT_MILLIS),
    ("MaxCachedMessageAmount", "max_cached_message_amount", keys::MAX_CACHED_MESSAGE_AMOUNT_ONS),
    ("MaxCachedMessageSizeInMiB", "max_cached_message_size_in_mib", keys::MAX_CACHED_MESSAGE_SIZE_IN_MIB_ONS),
    ("InstanceName", "instance_name", keys::INSTANCE_NAME),
    ("INSTANCE_ID", "instance_id", keys::INSTANCE_ID),
    ("Namespace", "namespace", keys::NAMESPACE),
    ("isVipChannelEnabled", "is_vip_channel_enabled", keys::VIP_CHANNEL_ENABLED),
    ("MsgTraceSwitch", "msg_trace_switch", keys::MSG_TRACE_SWITCH),
    ("SendMsgRetryTimes", "send_msg_retry_times", keys::SEND_MSG_RETRY_TIMES),
    ("HeaderFormat", "header_format", keys::HEADER_FORMAT),
    ("CompressMsgBodyOverHowmuch", "compress_msg_body_over_howmuch", keys::COMPRESS_OVER_BYTES),
    ("LanguageAsJava", "language_as_java", keys::LANGUAGE_AS_JAVA),
    ("ConsumeFromWhere", "consume_from_where", keys::CONSUME_FROM_WHERE),
    ("ConsumeTimestamp", "consume_timestamp", keys::CONSUME_TIMESTAMP),
    ("OffsetStoreDir", "offset_store_dir", keys::OFFSET_STORE_DIR),
    ("TlsEnable", "tls_enable", keys::TLS_ENABLE),
    ("TlsCaFile", "tls_ca_file", keys::TLS_CA_FILE),
    ("TlsInsecureSkipVerify", "tls_insecure_skip_verify", keys::TLS_INSECURE_SKIP_VERIFY),
    ("TlsServerName", "tls_server_name", keys::TLS_SERVER_NAME),
];

/// Property values are strings in ONS; numbers and booleans are accepted and written the way
/// the core parses them (`true`/`false`).
fn value_string(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyBool>() {
        return Ok(if value.is_truthy()? { "true" } else { "false" }.to_owned());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    Ok(value.str()?.to_cow()?.into_owned())
}

/// The properties of a constructor call: the mapping first, keyword arguments over it.
pub(crate) fn collect(
    properties: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Properties> {
    let mut out = Properties::new();
    if let Some(mapping) = properties.filter(|p| !p.is_none()) {
        let items = mapping
            .call_method0("items")
            .map_err(|_| PyTypeError::new_err("properties must be a mapping of PropertyKeyConst names to values"))?;
        for item in items.try_iter()? {
            let item = item?;
            let pair = item.cast::<PyTuple>()?;
            let key = pair.get_item(0)?;
            let key = key
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("property names must be str"))?
                .to_cow()?
                .into_owned();
            let value = pair.get_item(1)?;
            if value.is_none() {
                continue;
            }
            out.set(key, value_string(&value)?);
        }
    }
    if let Some(options) = options {
        for (name, value) in options.iter() {
            let name: String = name.extract()?;
            let key = PROPERTY_KEYS
                .iter()
                .find(|(attr, kw, key)| *kw == name || *attr == name || *key == name)
                .map(|(_, _, key)| *key)
                .ok_or_else(|| {
                    PyTypeError::new_err(format!(
                        "unknown option {name:?}; options are PropertyKeyConst names or their snake_case \
                         forms (namesrv_addr, group_id, access_key, ...)"
                    ))
                })?;
            if value.is_none() {
                continue;
            }
            out.set(key, value_string(&value)?);
        }
    }
    Ok(out)
}

/// Builds the `PropertyKeyConst` class (attributes are the ONS names, values the keys).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let attrs = PyDict::new(py);
    for (attr, _, key) in PROPERTY_KEYS {
        attrs.set_item(*attr, *key)?;
    }
    attrs.set_item("__doc__", "ONS property names (PropertyKeyConst). Values are the keys the client reads.")?;
    attrs.set_item("__module__", "rocketmq_ons")?;
    let class = py.get_type::<pyo3::types::PyType>().call1(("PropertyKeyConst", PyTuple::empty(py), attrs))?;
    m.add("PropertyKeyConst", class)?;
    let keywords = PyDict::new(py);
    for (_, kw, key) in PROPERTY_KEYS {
        keywords.set_item(*kw, *key)?;
    }
    m.add("_OPTION_KEYWORDS", keywords)?;
    Ok(())
}
