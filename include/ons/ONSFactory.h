/*
 * ons/ONSFactory.h: a header-only C++11 wrapper over rocketmq_ons.h with the names and shapes
 * of the Alibaba Cloud ONS C++ SDK (namespace ons): ONSFactory, ONSFactoryProperty, Producer,
 * OrderProducer, TransactionProducer, PushConsumer, OrderConsumer, PullConsumer, Message,
 * SendResultONS, MessageQueueONS, MessageListener, MessageOrderListener,
 * LocalTransactionExecuter/Checker, ONSClientException.
 * Programs written against that SDK port by changing their includes to <ons/ONSFactory.h>.
 *
 * Errors are thrown as ONSClientException (GetMsg(), GetError() = the ONS_ERR_* code).
 * Handles are RAII: a Producer or consumer destroyed (or the factory at exit) shuts down and
 * releases the C handle; they are thread-safe, non-copyable and movable. Objects made by
 * ONSFactory::getInstance()->create*() are owned by the factory, as in the SDK.
 *
 * Callbacks (listeners, send callbacks, checkers) run on library threads; the executor of a
 * transactional send runs on the sending thread. An exception escaping a callback never
 * reaches the library: a listener's counts as ReconsumeLater / Suspend, a checker's or
 * executor's as Unknow. Listener, callback and checker objects must outlive the handle they
 * are given to (for sendAsync: until the callback has run). A Message passed to a listener is
 * valid for the call only; copy it to keep it.
 *
 * The library's log (WARN and ERROR lines on stderr by default) can be taken over with
 * ONSFactory::setLogHandler.
 */
#ifndef ONS_CPP_ONSFACTORY_H
#define ONS_CPP_ONSFACTORY_H

#include <rocketmq_ons.h>

#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ons {

class ONSClientException : public std::exception {
public:
    ONSClientException() : msg_(), error_(-1) {}
    explicit ONSClientException(const std::string& msg, int error = -1) : msg_(msg), error_(error) {}
    /** A failed send's exception: also the message's id and topic. */
    ONSClientException(const std::string& msg, int error, const std::string& msgId, const std::string& topic)
        : msg_(msg), error_(error), msgId_(msgId), topic_(topic) {}
    virtual ~ONSClientException() {}
    /** The message, NUL-terminated. */
    const char* GetMsg() const noexcept { return msg_.c_str(); }
    /** The status code: an ONS_ERR_* value (-1 when raised by the wrapper itself). */
    int GetError() const noexcept { return error_; }
    /** For a failed send (thrown, or given to SendCallbackONS::onException): the message's id,
     * "" when it failed before it got one (an invalid argument) or the failure was not a send.
     * The ONS Java SDK hands it over as OnExceptionContext.getMessageId(). */
    const char* GetMsgId() const noexcept { return msgId_.c_str(); }
    /** For a failed send: the message's topic ("" when the failure was not a send); the ONS Java
     * SDK's OnExceptionContext.getTopic(). */
    const char* GetTopic() const noexcept { return topic_.c_str(); }
    const char* what() const noexcept override { return msg_.c_str(); }

private:
    std::string msg_;
    int error_;
    std::string msgId_, topic_;
};

enum Action { CommitMessage = ONS_ACTION_COMMIT_MESSAGE, ReconsumeLater = ONS_ACTION_RECONSUME_LATER };
enum OrderAction { Success = ONS_ORDER_ACTION_SUCCESS, Suspend = ONS_ORDER_ACTION_SUSPEND };
/** The ONS SDK's channel (property OnsChannel, default ALIYUN). With AccessKey and SecretKey set,
 * every request carries it as the signed OnsChannel field, as the ONS Java SDK's do. */
enum ONSChannel { CLOUD, ALIYUN, ALL, LOCAL, INNER };

enum TransactionStatus {
    CommitTransaction = ONS_TRANSACTION_COMMIT,
    RollbackTransaction = ONS_TRANSACTION_ROLLBACK,
    Unknow = ONS_TRANSACTION_UNKNOWN
};

namespace detail {

/* The calling thread's last error (a failed call's, or in a failure callback the failure's). */
inline ONSClientException last_error(int32_t status) {
    const char* id = ons_last_error_message_id();
    const char* topic = ons_last_error_topic();
    return ONSClientException(ons_last_error_message(), status, id != nullptr ? id : "",
                              topic != nullptr ? topic : "");
}

inline void check(int32_t status) {
    if (status != ONS_OK) {
        throw last_error(status);
    }
}

inline const char* or_empty(const char* s) { return s != nullptr ? s : ""; }

/* Property names as static members of a class template: defined in this header (C++11 has
 * no inline variables) yet one object per name in the program. */
template <typename Unused = void>
struct PropertyKeys {
    static const char* const LogPath;
    static const char* const ProducerId;
    static const char* const ConsumerId;
    static const char* const GroupId;
    static const char* const PublishTopics;
    static const char* const MsgContent;
    static const char* const AccessKey;
    static const char* const SecretKey;
    static const char* const SecurityToken;
    static const char* const MessageModel;
    static const char* const BROADCASTING;
    static const char* const CLUSTERING;
    static const char* const SendMsgTimeoutMillis;
    static const char* const SendMsgRetryTimes;
    static const char* const SuspendTimeMillis;
    static const char* const MaxMsgCacheSize;
    static const char* const MaxCachedMessageSizeInMiB;
    static const char* const MAX_BATCH_MESSAGE_COUNT;
    static const char* const BatchConsumeMaxAwaitDurationInSeconds;
    static const char* const ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME;
    static const char* const ONSAddr;
    static const char* const NAMESRV_ADDR;
    static const char* const ConsumeThreadNums;
    static const char* const OnsChannel;
    static const char* const OnsTraceSwitch;
    static const char* const ConsumerInstanceName;
    static const char* const InstanceId;
    static const char* const Namespace;
    static const char* const MaxReconsumeTimes;
    static const char* const ConsumeTimeout;
    static const char* const ConsumeMessageBatchMaxSize;
    static const char* const CheckImmunityTimeInSeconds;
    static const char* const isVipChannelEnabled;
    static const char* const RAM_ROLE_NAME;
    static const char* const MQType;
    static const char* const PostSubscriptionWhenPull;
    static const char* const MsgTraceSelectQueueEnable;
    static const char* const MqttMessageId;
    static const char* const MqttMessage;
    static const char* const MqttPublishRetain;
    static const char* const MqttPublishDubFlag;
    static const char* const MqttSecondTopic;
    static const char* const MqttClientId;
    static const char* const MqttQOS;
    static const char* const EXACTLYONCE_DELIVERY;
    static const char* const EXACTLYONCE_RM_REFRESHINTERVAL;
    static const char* const ENABLE_ORDERLY_CONSUME_ACCELERATOR;
    static const char* const AUTO_COMMIT;
    static const char* const AUTO_COMMIT_INTERVAL_MILLIS;
    static const char* const POLL_TIMEOUT_MILLIS;
    static const char* const shardingKey;
    static const char* const HeaderFormat;
    static const char* const CompressMsgBodyOverHowmuch;
    static const char* const CompressType;
    static const char* const CompressLevel;
    static const char* const LanguageAsJava;
    static const char* const TRACE_TOPIC_NAME;
    static const char* const AccessChannel;
    static const char* const ConsumeFromWhere;
    static const char* const ConsumeTimestamp;
    static const char* const OffsetStoreDir;
    static const char* const TlsEnable;
    static const char* const TlsCaFile;
    static const char* const TlsInsecureSkipVerify;
    static const char* const TlsServerName;
    static const char* const AllowUnknownProperties;
};

/* The ONS C++ SDK's members hold that SDK's values (apache/rocketmq-ons-cpp, ONSFactory.cpp);
 * the other keys have the members of the other bindings (ONS_PROPERTY_*). The client reads
 * every spelling of a key; core/src/config/catalogue.rs checks this list (see
 * docs/configuration-keys.md). */
template <typename U> const char* const PropertyKeys<U>::LogPath = "LogPath";
template <typename U> const char* const PropertyKeys<U>::ProducerId = "ProducerId";
template <typename U> const char* const PropertyKeys<U>::ConsumerId = "ConsumerId";
template <typename U> const char* const PropertyKeys<U>::GroupId = "GroupId";
template <typename U> const char* const PropertyKeys<U>::PublishTopics = "PublishTopics";
template <typename U> const char* const PropertyKeys<U>::MsgContent = "MsgContent";
template <typename U> const char* const PropertyKeys<U>::AccessKey = "AccessKey";
template <typename U> const char* const PropertyKeys<U>::SecretKey = "SecretKey";
template <typename U> const char* const PropertyKeys<U>::SecurityToken = ONS_PROPERTY_SECURITY_TOKEN;
template <typename U> const char* const PropertyKeys<U>::MessageModel = "MessageModel";
template <typename U> const char* const PropertyKeys<U>::BROADCASTING = ONS_BROADCASTING;
template <typename U> const char* const PropertyKeys<U>::CLUSTERING = ONS_CLUSTERING;
template <typename U> const char* const PropertyKeys<U>::SendMsgTimeoutMillis = "SendMsgTimeoutMillis";
template <typename U> const char* const PropertyKeys<U>::SendMsgRetryTimes = "SendMsgRetryTimes";
template <typename U> const char* const PropertyKeys<U>::SuspendTimeMillis = "SuspendTimeMillis";
template <typename U> const char* const PropertyKeys<U>::MaxMsgCacheSize = "MaxMsgCacheSize";
template <typename U> const char* const PropertyKeys<U>::MaxCachedMessageSizeInMiB = "MaxCachedMessageSizeInMiB";
template <typename U> const char* const PropertyKeys<U>::MAX_BATCH_MESSAGE_COUNT = ONS_PROPERTY_MAX_BATCH_MESSAGE_COUNT;
template <typename U>
const char* const PropertyKeys<U>::BatchConsumeMaxAwaitDurationInSeconds = ONS_PROPERTY_BATCH_CONSUME_MAX_AWAIT_DURATION_IN_SECONDS;
template <typename U>
const char* const PropertyKeys<U>::ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME = ONS_PROPERTY_ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME;
template <typename U> const char* const PropertyKeys<U>::ONSAddr = "ONSAddr";
template <typename U> const char* const PropertyKeys<U>::NAMESRV_ADDR = "NAMESRV_ADDR";
template <typename U> const char* const PropertyKeys<U>::ConsumeThreadNums = "ConsumeThreadNums";
template <typename U> const char* const PropertyKeys<U>::OnsChannel = "OnsChannel";
template <typename U> const char* const PropertyKeys<U>::OnsTraceSwitch = "OnsTraceSwitch";
template <typename U> const char* const PropertyKeys<U>::ConsumerInstanceName = "ConsumerInstanceName";
template <typename U> const char* const PropertyKeys<U>::InstanceId = "InstanceId";
template <typename U> const char* const PropertyKeys<U>::Namespace = ONS_PROPERTY_NAMESPACE;
template <typename U> const char* const PropertyKeys<U>::MaxReconsumeTimes = ONS_PROPERTY_MAX_RECONSUME_TIMES;
template <typename U> const char* const PropertyKeys<U>::ConsumeTimeout = ONS_PROPERTY_CONSUME_TIMEOUT;
template <typename U>
const char* const PropertyKeys<U>::ConsumeMessageBatchMaxSize = ONS_PROPERTY_CONSUME_MESSAGE_BATCH_MAX_SIZE;
template <typename U>
const char* const PropertyKeys<U>::CheckImmunityTimeInSeconds = ONS_PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS;
template <typename U> const char* const PropertyKeys<U>::isVipChannelEnabled = ONS_PROPERTY_IS_VIP_CHANNEL_ENABLED;
template <typename U> const char* const PropertyKeys<U>::RAM_ROLE_NAME = ONS_PROPERTY_RAM_ROLE_NAME;
template <typename U> const char* const PropertyKeys<U>::MQType = ONS_PROPERTY_MQ_TYPE;
template <typename U> const char* const PropertyKeys<U>::PostSubscriptionWhenPull = ONS_PROPERTY_POST_SUBSCRIPTION_WHEN_PULL;
template <typename U> const char* const PropertyKeys<U>::MsgTraceSelectQueueEnable = ONS_PROPERTY_MSG_TRACE_SELECT_QUEUE_ENABLE;
template <typename U> const char* const PropertyKeys<U>::MqttMessageId = ONS_PROPERTY_MQTT_MESSAGE_ID;
template <typename U> const char* const PropertyKeys<U>::MqttMessage = ONS_PROPERTY_MQTT_MESSAGE;
template <typename U> const char* const PropertyKeys<U>::MqttPublishRetain = ONS_PROPERTY_MQTT_PUBLISH_RETAIN;
template <typename U> const char* const PropertyKeys<U>::MqttPublishDubFlag = ONS_PROPERTY_MQTT_PUBLISH_DUB_FLAG;
template <typename U> const char* const PropertyKeys<U>::MqttSecondTopic = ONS_PROPERTY_MQTT_SECOND_TOPIC;
template <typename U> const char* const PropertyKeys<U>::MqttClientId = ONS_PROPERTY_MQTT_CLIENT_ID;
template <typename U> const char* const PropertyKeys<U>::MqttQOS = ONS_PROPERTY_MQTT_QOS;
template <typename U> const char* const PropertyKeys<U>::EXACTLYONCE_DELIVERY = ONS_PROPERTY_EXACTLY_ONCE_DELIVERY;
template <typename U> const char* const PropertyKeys<U>::EXACTLYONCE_RM_REFRESHINTERVAL = ONS_PROPERTY_EXACTLY_ONCE_RM_REFRESH_INTERVAL;
template <typename U> const char* const PropertyKeys<U>::ENABLE_ORDERLY_CONSUME_ACCELERATOR = ONS_PROPERTY_ENABLE_ORDERLY_CONSUME_ACCELERATOR;
template <typename U> const char* const PropertyKeys<U>::AUTO_COMMIT = ONS_PROPERTY_AUTO_COMMIT;
template <typename U> const char* const PropertyKeys<U>::AUTO_COMMIT_INTERVAL_MILLIS = ONS_PROPERTY_AUTO_COMMIT_INTERVAL_MILLIS;
template <typename U> const char* const PropertyKeys<U>::POLL_TIMEOUT_MILLIS = ONS_PROPERTY_POLL_TIMEOUT_MILLIS;
template <typename U> const char* const PropertyKeys<U>::shardingKey = ONS_PROPERTY_SHARDING_KEY;
template <typename U> const char* const PropertyKeys<U>::HeaderFormat = ONS_PROPERTY_HEADER_FORMAT;
template <typename U>
const char* const PropertyKeys<U>::CompressMsgBodyOverHowmuch = ONS_PROPERTY_COMPRESS_MSG_BODY_OVER_HOWMUCH;
template <typename U> const char* const PropertyKeys<U>::CompressType = ONS_PROPERTY_COMPRESS_TYPE;
template <typename U> const char* const PropertyKeys<U>::CompressLevel = ONS_PROPERTY_COMPRESS_LEVEL;
template <typename U> const char* const PropertyKeys<U>::LanguageAsJava = ONS_PROPERTY_LANGUAGE_AS_JAVA;
template <typename U> const char* const PropertyKeys<U>::TRACE_TOPIC_NAME = ONS_PROPERTY_TRACE_TOPIC_NAME;
template <typename U> const char* const PropertyKeys<U>::AccessChannel = ONS_PROPERTY_ACCESS_CHANNEL;
template <typename U> const char* const PropertyKeys<U>::ConsumeFromWhere = ONS_PROPERTY_CONSUME_FROM_WHERE;
template <typename U> const char* const PropertyKeys<U>::ConsumeTimestamp = ONS_PROPERTY_CONSUME_TIMESTAMP;
template <typename U> const char* const PropertyKeys<U>::OffsetStoreDir = ONS_PROPERTY_OFFSET_STORE_DIR;
template <typename U> const char* const PropertyKeys<U>::TlsEnable = ONS_PROPERTY_TLS_ENABLE;
template <typename U> const char* const PropertyKeys<U>::TlsCaFile = ONS_PROPERTY_TLS_CA_FILE;
template <typename U> const char* const PropertyKeys<U>::TlsInsecureSkipVerify = ONS_PROPERTY_TLS_INSECURE_SKIP_VERIFY;
template <typename U> const char* const PropertyKeys<U>::TlsServerName = ONS_PROPERTY_TLS_SERVER_NAME;
template <typename U> const char* const PropertyKeys<U>::AllowUnknownProperties = ONS_PROPERTY_ALLOW_UNKNOWN_PROPERTIES;

struct Access;

/* The ONS SDK's system property names (apache/rocketmq-ons-cpp, Message.cpp). */
template <typename Unused = void>
struct SystemPropNames {
    static const char* const TAG;
    static const char* const KEY;
    static const char* const MSGID;
    static const char* const RECONSUMETIMES;
    static const char* const STARTDELIVERTIME;
};
template <typename U> const char* const SystemPropNames<U>::TAG = "__TAG";
template <typename U> const char* const SystemPropNames<U>::KEY = "__KEY";
template <typename U> const char* const SystemPropNames<U>::MSGID = "__MSGID";
template <typename U> const char* const SystemPropNames<U>::RECONSUMETIMES = "__RECONSUMETIMES";
template <typename U> const char* const SystemPropNames<U>::STARTDELIVERTIME = "__STARTDELIVERTIME";

}  // namespace detail

/** The keys of Message::getSystemProperties() (the ONS SDK's names). */
class SystemPropKey : public detail::SystemPropNames<> {};

/** The factory properties: string keys (the static members) and values. A value type. */
class ONSFactoryProperty : public detail::PropertyKeys<> {
public:
    ONSFactoryProperty() {}

    void setFactoryProperty(const std::string& key, const std::string& value) { props_[key] = value; }
    void setFactoryProperties(const std::map<std::string, std::string>& properties) { props_ = properties; }
    std::map<std::string, std::string> getFactoryProperties() const { return props_; }

    void setSendMsgTimeout(int millis) { setFactoryProperty(SendMsgTimeoutMillis, std::to_string(millis)); }
    void setSendMsgRetryTimes(int times) { setFactoryProperty(SendMsgRetryTimes, std::to_string(times)); }
    void setMaxMsgCacheSize(int count) { setFactoryProperty(MaxMsgCacheSize, std::to_string(count)); }
    void setOnsTraceSwitch(bool on) { setFactoryProperty(OnsTraceSwitch, on ? "true" : "false"); }
    /** Sets OnsChannel to the channel's name ("CLOUD", "ALIYUN", ...). */
    void setOnsChannel(ONSChannel channel) { setFactoryProperty(OnsChannel, channelName(channel)); }
    /** ALIYUN when OnsChannel is not set; throws when it holds a name no ONSChannel has. */
    ONSChannel getOnsChannel() const {
        const std::string v = get(OnsChannel);
        static const ONSChannel all[] = {CLOUD, ALIYUN, ALL, LOCAL, INNER};
        if (v.empty()) {
            return ALIYUN;
        }
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            if (v == channelName(all[i])) {
                return all[i];
            }
        }
        throw ONSClientException("OnsChannel is \"" + v + "\"; expected CLOUD, ALIYUN, ALL, LOCAL or INNER",
                                 ONS_ERR_INVALID_CONFIG);
    }

    /** "" when the key is not set (the SDK's convention). */
    const char* get(const std::string& key) const {
        std::map<std::string, std::string>::const_iterator it = props_.find(key);
        return it == props_.end() ? "" : it->second.c_str();
    }
    const char* getProducerId() const { return get(ProducerId); }
    const char* getConsumerId() const { return get(ConsumerId); }
    const char* getGroupId() const { return get(GroupId); }
    const char* getPublishTopics() const { return get(PublishTopics); }
    const char* getMessageContent() const { return get(MsgContent); }
    const char* getMessageModel() const { return get(MessageModel); }
    const char* getNameSrvAddr() const { return get(NAMESRV_ADDR); }
    const char* getNameSrvDomain() const { return get(ONSAddr); }
    const char* getAccessKey() const { return get(AccessKey); }
    const char* getSecretKey() const { return get(SecretKey); }
    const char* getChannel() const { return get(OnsChannel); }
    const char* getConsumerInstanceName() const { return get(ConsumerInstanceName); }
    const char* getInstanceId() const { return get(InstanceId); }
    /** -1 when not set. */
    int getSendMsgTimeout() const { return number(SendMsgTimeoutMillis); }
    int getSendMsgRetryTimes() const { return number(SendMsgRetryTimes); }
    int getConsumeThreadNums() const { return number(ConsumeThreadNums); }
    int getMaxMsgCacheSize() const { return number(MaxMsgCacheSize); }
    int getSuspendTimeMillis() const { return number(SuspendTimeMillis); }

private:
    static const char* channelName(ONSChannel channel) {
        switch (channel) {
            case CLOUD: return "CLOUD";
            case ALIYUN: return "ALIYUN";
            case ALL: return "ALL";
            case LOCAL: return "LOCAL";
            case INNER: return "INNER";
        }
        throw ONSClientException("ONSChannel value " + std::to_string(static_cast<int>(channel)) + " is not a channel",
                                 ONS_ERR_INVALID_ARGUMENT);
    }
    int number(const std::string& key) const {
        const char* v = get(key);
        return v[0] == '\0' ? -1 : std::atoi(v);
    }

    std::map<std::string, std::string> props_;
};

/** What a listener is told about a delivery: the queue the message came from. */
class ConsumeContext {
public:
    const char* getTopic() const { return topic_; }
    const char* getBrokerName() const { return broker_; }
    int getQueueId() const { return queue_; }

protected:
    ConsumeContext() : topic_(""), broker_(""), queue_(-1) {}

private:
    friend struct detail::Access;
    const char* topic_;
    const char* broker_;
    int queue_;
};

class ConsumeOrderContext : public ConsumeContext {
    friend struct detail::Access;
};

/**
 * A message. Built to send (the wrapper owns a C message), or handed to a callback (then it
 * views the library's message for the call only; changing it, or copying it, makes an owned
 * copy). Getters return strings owned by the message, valid until it changes or goes.
 */
class Message {
public:
    Message() : handle_(nullptr), owned_(true) { init("", nullptr, "", 0); }
    Message(const std::string& topic, const std::string& tags, const std::string& body)
        : handle_(nullptr), owned_(true) {
        init(topic.c_str(), tags.c_str(), body.data(), body.size());
    }
    Message(const std::string& topic, const std::string& tags, const std::string& keys, const std::string& body)
        : handle_(nullptr), owned_(true) {
        init(topic.c_str(), tags.c_str(), body.data(), body.size());
        setKey(keys);
    }
    Message(const Message& other) : handle_(nullptr), owned_(true) {
        detail::check(ons_message_clone(other.handle_, &handle_));
    }
    Message(Message&& other) noexcept : handle_(other.handle_), owned_(other.owned_) {
        other.handle_ = nullptr;
        other.owned_ = true;
    }
    Message& operator=(Message other) noexcept {
        std::swap(handle_, other.handle_);
        std::swap(owned_, other.owned_);
        scratch_.swap(other.scratch_);
        return *this;
    }
    ~Message() {
        if (owned_) {
            ons_message_free(handle_);
        }
    }

    const char* getTopic() const { return text(ons_message_topic); }
    void setTopic(const std::string& topic) { detail::check(ons_message_set_topic(mut(), topic.c_str())); }
    const char* getTag() const { return text(ons_message_tag); }
    void setTag(const std::string& tag) { detail::check(ons_message_set_tag(mut(), tag.c_str())); }
    const char* getKey() const { return text(ons_message_key); }
    void setKey(const std::string& key) { detail::check(ons_message_set_key(mut(), key.c_str())); }
    const char* getMsgID() const { return text(ons_message_msg_id); }
    /** The id this message carries; a send still assigns a new one (see SendResultONS). */
    void setMsgID(const std::string& msgId) { detail::check(ons_message_set_msg_id(mut(), msgId.c_str())); }
    const char* getShardingKey() const { return text(ons_message_sharding_key); }
    void setShardingKey(const std::string& key) { detail::check(ons_message_set_sharding_key(mut(), key.c_str())); }
    const char* getBornHost() const { return text(ons_message_born_host); }
    const char* getStoreHost() const { return text(ons_message_store_host); }
    const char* getOffsetMsgId() const { return text(ons_message_offset_msg_id); }

    /** The body, binary-safe (may contain NUL bytes). */
    std::string getMsgBody() const {
        const uint8_t* data = nullptr;
        size_t len = 0;
        detail::check(ons_message_body(handle_, &data, &len));
        return std::string(reinterpret_cast<const char*>(data), len);
    }
    void setMsgBody(const std::string& body) { setBody(body.data(), body.size()); }
    /** The body in place and its length in `*len` (NULL when `len` is NULL), as the SDK's. */
    const char* getByteBody(int* len) const {
        if (len == nullptr) {
            return nullptr;
        }
        *len = getBodySize();
        return getBody();
    }
    /** The body in place: getBodySize() bytes, not NUL-terminated. */
    const char* getBody() const {
        const uint8_t* data = nullptr;
        size_t len = 0;
        detail::check(ons_message_body(handle_, &data, &len));
        return reinterpret_cast<const char*>(data);
    }
    void setBody(const void* data, size_t len) {
        detail::check(ons_message_set_body(mut(), static_cast<const uint8_t*>(data), len));
    }
    int getBodySize() const {
        const uint8_t* data = nullptr;
        size_t len = 0;
        detail::check(ons_message_body(handle_, &data, &len));
        return static_cast<int>(len);
    }

    /** Timed delivery, in ms since the epoch; 0: not timed. */
    long long getStartDeliverTime() const { return number<int64_t>(ons_message_start_deliver_time); }
    void setStartDeliverTime(long long epochMillis) {
        detail::check(ons_message_set_start_deliver_time(mut(), epochMillis));
    }
    int getReconsumeTimes() const { return number<int32_t>(ons_message_reconsume_times); }
    /** Throws ONSClientException (ONS_ERR_INVALID_ARGUMENT) when negative. */
    void setReconsumeTimes(int reconsumeTimes) {
        detail::check(ons_message_set_reconsume_times(mut(), reconsumeTimes));
    }
    long long getBornTimestamp() const { return number<int64_t>(ons_message_born_timestamp); }
    long long getStoreTimestamp() const { return number<int64_t>(ons_message_store_timestamp); }
    long long getQueueOffset() const { return number<int64_t>(ons_message_queue_offset); }
    int getQueueId() const { return number<int32_t>(ons_message_queue_id); }

    void putUserProperties(const std::string& key, const std::string& value) {
        detail::check(ons_message_put_user_property(mut(), key.c_str(), value.c_str()));
    }
    /** "" when absent. */
    const char* getUserProperties(const std::string& key) const {
        const char* out = nullptr;
        detail::check(ons_message_user_property(handle_, key.c_str(), &out));
        return detail::or_empty(out);
    }
    std::map<std::string, std::string> getUserProperties() const {
        size_t count = 0;
        detail::check(ons_message_user_property_count(handle_, &count));
        std::map<std::string, std::string> all;
        for (size_t i = 0; i < count; i++) {
            const char* k = nullptr;
            const char* v = nullptr;
            detail::check(ons_message_user_property_at(handle_, i, &k, &v));
            all[k] = v;
        }
        return all;
    }
    void setUserProperties(const std::map<std::string, std::string>& properties) {
        for (std::map<std::string, std::string>::const_iterator it = properties.begin(); it != properties.end(); ++it) {
            putUserProperties(it->first, it->second);
        }
    }
    /**
     * A system property, "" when absent: a SystemPropKey name (the numbers as text, valid until
     * the next such call or a change), or any property name as the broker stored it (received
     * messages; for others, a user property).
     */
    const char* getSystemProperties(const std::string& key) const {
        if (key == SystemPropKey::TAG) {
            return getTag();
        }
        if (key == SystemPropKey::KEY) {
            return getKey();
        }
        if (key == SystemPropKey::MSGID) {
            return getMsgID();
        }
        if (key == SystemPropKey::RECONSUMETIMES) {
            scratch_ = std::to_string(getReconsumeTimes());
            return scratch_.c_str();
        }
        if (key == SystemPropKey::STARTDELIVERTIME) {
            long long t = getStartDeliverTime();
            scratch_ = t > 0 ? std::to_string(t) : std::string();
            return scratch_.c_str();
        }
        const char* out = nullptr;
        detail::check(ons_message_system_property(handle_, key.c_str(), &out));
        return detail::or_empty(out);
    }
    /** The SDK's system properties: the SystemPropKey entries that are set (tag, key, message
     * id, reconsume times above 0, start deliver time). */
    std::map<std::string, std::string> getSystemProperties() const {
        std::map<std::string, std::string> all;
        const char* texts[][2] = {{SystemPropKey::TAG, getTag()},
                                  {SystemPropKey::KEY, getKey()},
                                  {SystemPropKey::MSGID, getMsgID()}};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            if (texts[i][1][0] != '\0') {
                all[texts[i][0]] = texts[i][1];
            }
        }
        if (getReconsumeTimes() > 0) {
            all[SystemPropKey::RECONSUMETIMES] = std::to_string(getReconsumeTimes());
        }
        if (getStartDeliverTime() > 0) {
            all[SystemPropKey::STARTDELIVERTIME] = std::to_string(getStartDeliverTime());
        }
        return all;
    }
    /** Sets one SystemPropKey entry (the numbers as decimal text); other keys are refused. */
    void putSystemProperties(const std::string& key, const std::string& value) {
        if (key == SystemPropKey::TAG) {
            setTag(value);
        } else if (key == SystemPropKey::KEY) {
            setKey(value);
        } else if (key == SystemPropKey::MSGID) {
            setMsgID(value);
        } else if (key == SystemPropKey::RECONSUMETIMES) {
            setReconsumeTimes(static_cast<int>(decimal(key, value)));
        } else if (key == SystemPropKey::STARTDELIVERTIME) {
            setStartDeliverTime(decimal(key, value));
        } else {
            throw ONSClientException("\"" + key + "\" is not a system property; use __TAG, __KEY, __MSGID, "
                                     "__RECONSUMETIMES or __STARTDELIVERTIME (or putUserProperties)",
                                     ONS_ERR_INVALID_ARGUMENT);
        }
    }
    void setSystemProperties(const std::map<std::string, std::string>& properties) {
        for (std::map<std::string, std::string>::const_iterator it = properties.begin(); it != properties.end(); ++it) {
            putSystemProperties(it->first, it->second);
        }
    }

    std::string toString() const {
        return std::string("Message [topic=") + getTopic() + ", tag=" + getTag() + ", key=" + getKey() +
               ", msgId=" + getMsgID() + ", bodySize=" + std::to_string(getBodySize()) + "]";
    }

    /** The C message, for mixing with the C API. */
    const ons_message_t* c_message() const { return handle_; }

private:
    friend struct detail::Access;
    struct Borrow {};
    Message(const ons_message_t* lent, Borrow) : handle_(const_cast<ons_message_t*>(lent)), owned_(false) {}

    void init(const char* topic, const char* tag, const void* body, size_t len) {
        detail::check(ons_message_new(topic, tag, static_cast<const uint8_t*>(body), len, &handle_));
    }
    /* A lent message is read-only in the library: change an owned copy instead. */
    ons_message_t* mut() {
        if (!owned_) {
            ons_message_t* copy = nullptr;
            detail::check(ons_message_clone(handle_, &copy));
            handle_ = copy;
            owned_ = true;
        }
        return handle_;
    }
    const char* text(int32_t (*getter)(const ons_message_t*, const char**)) const {
        const char* out = nullptr;
        detail::check(getter(handle_, &out));
        return detail::or_empty(out);
    }
    template <typename T>
    T number(int32_t (*getter)(const ons_message_t*, T*)) const {
        T out = 0;
        detail::check(getter(handle_, &out));
        return out;
    }

    static long long decimal(const std::string& key, const std::string& value) {
        char* end = nullptr;
        long long n = std::strtoll(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || n < 0 || (key == SystemPropKey::RECONSUMETIMES && n > 2147483647LL)) {
            throw ONSClientException(key + " is \"" + value + "\"; expected a decimal number of 0 or more",
                                     ONS_ERR_INVALID_ARGUMENT);
        }
        return n;
    }

    ons_message_t* handle_;
    bool owned_;
    mutable std::string scratch_;
};

/** The result of a send; a value type. */
class SendResultONS {
public:
    SendResultONS() : queueId_(-1), queueOffset_(-1) {}
    const char* getMessageId() const { return messageId_.c_str(); }
    void setMessageId(const std::string& id) { messageId_ = id; }
    const char* getTopic() const { return topic_.c_str(); }
    const char* getBrokerName() const { return brokerName_.c_str(); }
    const char* getOffsetMsgId() const { return offsetMsgId_.c_str(); }
    const char* getTransactionId() const { return transactionId_.c_str(); }
    int getQueueId() const { return queueId_; }
    long long getQueueOffset() const { return queueOffset_; }
    std::string toString() const {
        return "SendResult [messageId=" + messageId_ + ", topic=" + topic_ + ", queueId=" + std::to_string(queueId_) +
               ", queueOffset=" + std::to_string(queueOffset_) + "]";
    }

private:
    friend struct detail::Access;
    std::string messageId_, topic_, brokerName_, offsetMsgId_, transactionId_;
    int queueId_;
    long long queueOffset_;
};

/**
 * What a consumer subscribes to, as the ONS Java SDK's MessageSelector: tags (byTag("TagA ||
 * TagB"), "*" for all) or an SQL92 condition over user properties (bySql("region = 'hz'"); the
 * broker must run with enablePropertyFilter=true). A value type.
 */
class MessageSelector {
public:
    static MessageSelector byTag(const std::string& tagExpression) { return MessageSelector(tagExpression, false); }
    static MessageSelector bySql(const std::string& sql) { return MessageSelector(sql, true); }
    const char* getExpression() const { return expression_.c_str(); }
    bool isSql() const { return sql_; }

private:
    MessageSelector(const std::string& expression, bool sql) : expression_(expression), sql_(sql) {}
    std::string expression_;
    bool sql_;
};

/** One queue of a topic: the topic, the broker set holding it, its id there (a SendResultONS's
 * getBrokerName() and getQueueId() name one). A value type, as in the ONS C++ SDK. */
class MessageQueueONS {
public:
    MessageQueueONS() : queueId_(-1) {}
    MessageQueueONS(const std::string& topic, const std::string& brokerName, int queueId)
        : topic_(topic), brokerName_(brokerName), queueId_(queueId) {}
    std::string getTopic() const { return topic_; }
    void setTopic(const std::string& topic) { topic_ = topic; }
    std::string getBrokerName() const { return brokerName_; }
    void setBrokerName(const std::string& brokerName) { brokerName_ = brokerName; }
    int getQueueId() const { return queueId_; }
    void setQueueId(int queueId) { queueId_ = queueId; }
    /** Ordered by topic, then broker name, then queue id (as the Java MessageQueue). */
    int compareTo(const MessageQueueONS& other) const {
        int byTopic = topic_.compare(other.topic_);
        if (byTopic != 0) return byTopic;
        int byBroker = brokerName_.compare(other.brokerName_);
        if (byBroker != 0) return byBroker;
        return queueId_ < other.queueId_ ? -1 : (queueId_ > other.queueId_ ? 1 : 0);
    }
    bool operator==(const MessageQueueONS& other) const { return compareTo(other) == 0; }
    bool operator<(const MessageQueueONS& other) const { return compareTo(other) < 0; }
    std::string toString() const {
        return "MessageQueue [topic=" + topic_ + ", brokerName=" + brokerName_ + ", queueId=" + std::to_string(queueId_) +
               "]";
    }

private:
    std::string topic_, brokerName_;
    int queueId_;
};

/** Completion of Producer::sendAsync, called once on a library thread. */
class SendCallbackONS {
public:
    virtual ~SendCallbackONS() {}
    virtual void onSuccess(SendResultONS& sendResult) = 0;
    virtual void onException(ONSClientException& e) = 0;
};

class MessageListener {
public:
    virtual ~MessageListener() {}
    /** Called on library threads, up to ConsumeThreadNums at once. */
    virtual Action consume(Message& message, ConsumeContext& context) = 0;
};

class MessageOrderListener {
public:
    virtual ~MessageOrderListener() {}
    /** Messages of one queue one at a time, in order. */
    virtual OrderAction consume(Message& message, ConsumeOrderContext& context) = 0;
};

class BatchMessageListener {
public:
    virtual ~BatchMessageListener() {}
    /** Up to ConsumeMessageBatchMaxSize messages of one queue; the answer applies to all. */
    virtual Action consume(std::vector<Message>& messages, ConsumeContext& context) = 0;
};

class LocalTransactionExecuter {
public:
    virtual ~LocalTransactionExecuter() {}
    /** Runs the local transaction of a sent half message, on the sending thread. */
    virtual TransactionStatus execute(Message& value) = 0;
};

class LocalTransactionChecker {
public:
    virtual ~LocalTransactionChecker() {}
    /** Answers the broker's question about an undecided transaction, on a library thread. */
    virtual TransactionStatus check(Message& value) = 0;
};

namespace detail {

/* The C properties of a factory property map, freed on scope exit. */
class CProperties {
public:
    explicit CProperties(const ONSFactoryProperty& properties) : p_(nullptr) {
        check(ons_properties_new(&p_));
        std::map<std::string, std::string> all = properties.getFactoryProperties();
        for (std::map<std::string, std::string>::const_iterator it = all.begin(); it != all.end(); ++it) {
            int32_t rc = ons_properties_set(p_, it->first.c_str(), it->second.c_str());
            if (rc != ONS_OK) {
                ONSClientException e(ons_last_error_message(), rc);
                ons_properties_free(p_);
                throw e;
            }
        }
    }
    ~CProperties() { ons_properties_free(p_); }
    const ons_properties_t* get() const { return p_; }

    CProperties(const CProperties&) = delete;
    CProperties& operator=(const CProperties&) = delete;

private:
    ons_properties_t* p_;
};

struct Access {
    static Message lend(const ons_message_t* m) { return Message(m, Message::Borrow()); }

    template <typename Context>
    static Context context(const ons_consume_context_t* c) {
        Context ctx;
        const char* topic = nullptr;
        const char* broker = nullptr;
        int32_t queue = -1;
        if (ons_consume_context_queue(c, &topic, &broker, &queue) == ONS_OK) {
            ctx.topic_ = or_empty(topic);
            ctx.broker_ = or_empty(broker);
            ctx.queue_ = queue;
        }
        return ctx;
    }

    static SendResultONS result(const ons_send_result_t* r) {
        SendResultONS out;
        const char* s = nullptr;
        check(ons_send_result_message_id(r, &s));
        out.messageId_ = or_empty(s);
        check(ons_send_result_topic(r, &s));
        out.topic_ = or_empty(s);
        check(ons_send_result_broker_name(r, &s));
        out.brokerName_ = or_empty(s);
        check(ons_send_result_offset_msg_id(r, &s));
        out.offsetMsgId_ = or_empty(s);
        check(ons_send_result_transaction_id(r, &s));
        out.transactionId_ = or_empty(s);
        int32_t queue = -1;
        int64_t offset = -1;
        check(ons_send_result_queue_id(r, &queue));
        check(ons_send_result_queue_offset(r, &offset));
        out.queueId_ = queue;
        out.queueOffset_ = offset;
        return out;
    }

    /* Takes a send result returned by a send call: converts it and frees it. */
    static SendResultONS take(ons_send_result_t* r) {
        struct Free {
            ons_send_result_t* r;
            ~Free() { ons_send_result_free(r); }
        } guard = {r};
        return result(r);
    }
};

/* Trampolines: C callbacks into the C++ objects. No exception may leave them. */
inline void send_callback(void* user_data, int32_t status, const ons_send_result_t* result, const char* error) {
    SendCallbackONS* callback = static_cast<SendCallbackONS*>(user_data);
    try {
        if (status == ONS_OK) {
            SendResultONS r = Access::result(result);
            callback->onSuccess(r);
        } else {
            // While a failure callback runs, the thread's last error is the failure.
            ONSClientException e(or_empty(error), status, or_empty(ons_last_error_message_id()),
                                 or_empty(ons_last_error_topic()));
            callback->onException(e);
        }
    } catch (...) {
    }
}

inline int32_t message_listener(void* user_data, const ons_message_t* m, const ons_consume_context_t* c) {
    try {
        Message msg = Access::lend(m);
        ConsumeContext ctx = Access::context<ConsumeContext>(c);
        return static_cast<MessageListener*>(user_data)->consume(msg, ctx);
    } catch (...) {
        return ONS_ACTION_RECONSUME_LATER;
    }
}

inline int32_t order_listener(void* user_data, const ons_message_t* m, const ons_consume_context_t* c) {
    try {
        Message msg = Access::lend(m);
        ConsumeOrderContext ctx = Access::context<ConsumeOrderContext>(c);
        return static_cast<MessageOrderListener*>(user_data)->consume(msg, ctx);
    } catch (...) {
        return ONS_ORDER_ACTION_SUSPEND;
    }
}

inline int32_t batch_listener(void* user_data, const ons_message_t* const* ms, size_t count,
                              const ons_consume_context_t* c) {
    try {
        std::vector<Message> msgs;
        msgs.reserve(count);
        for (size_t i = 0; i < count; i++) {
            msgs.push_back(Access::lend(ms[i]));
        }
        ConsumeContext ctx = Access::context<ConsumeContext>(c);
        return static_cast<BatchMessageListener*>(user_data)->consume(msgs, ctx);
    } catch (...) {
        return ONS_ACTION_RECONSUME_LATER;
    }
}

inline int32_t transaction_executer(void* user_data, const ons_message_t* m) {
    try {
        Message msg = Access::lend(m);
        return static_cast<LocalTransactionExecuter*>(user_data)->execute(msg);
    } catch (...) {
        return ONS_TRANSACTION_UNKNOWN;
    }
}

inline int32_t transaction_checker(void* user_data, const ons_message_t* m) {
    try {
        Message msg = Access::lend(m);
        return static_cast<LocalTransactionChecker*>(user_data)->check(msg);
    } catch (...) {
        return ONS_TRANSACTION_UNKNOWN;
    }
}

/* RAII over one C handle type: creation, start/shutdown, destroy in the destructor. */
template <typename H, int32_t (*Start)(H*), int32_t (*Shutdown)(H*), int32_t (*Destroy)(H*),
          int32_t (*IsStarted)(const H*, int32_t*), int32_t (*IsClosed)(const H*, int32_t*),
          int32_t (*UpdateCredential)(H*, const ons_properties_t*),
          int32_t (*TraceCounts)(const H*, ons_trace_counts_t*)>
class Handle {
public:
    Handle(Handle&& other) noexcept : h_(other.h_) { other.h_ = nullptr; }
    Handle& operator=(Handle&& other) noexcept {
        std::swap(h_, other.h_);
        return *this;
    }
    /* Shuts down (unless done) and releases the handle; errors cannot be reported here. */
    ~Handle() { Destroy(h_); }

    void start() { check(Start(h_)); }
    /* Stops; afterwards no callback of this handle runs. Throws when already shut down. */
    void shutdown() { check(Shutdown(h_)); }
    bool isStarted() const { return flag(IsStarted); }
    bool isClosed() const { return flag(IsClosed); }
    /**
     * The ONS SDK's updateCredential: AccessKey, SecretKey (both required) and SecurityToken of
     * `credentials` sign every later request of this started client (other keys are ignored).
     */
    void updateCredential(const ONSFactoryProperty& credentials) {
        CProperties p(credentials);
        check(UpdateCredential(h_, p.get()));
    }
    /**
     * What this client's message traces came to (MsgTraceSwitch), while it runs and after
     * shutdown: `traced` is 0 when it has not traced; trace records `sent` and `dropped`.
     */
    ons_trace_counts_t traceCounts() const {
        ons_trace_counts_t out{};
        check(TraceCounts(h_, &out));
        return out;
    }
    H* c_handle() const { return h_; }

protected:
    Handle() : h_(nullptr) {}

    H* h_;

public:
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

private:
    bool flag(int32_t (*f)(const H*, int32_t*)) const {
        int32_t out = 0;
        check(f(h_, &out));
        return out != 0;
    }
};

}  // namespace detail

/** ONS Producer: normal and timed messages, sync, async and oneway. */
class Producer : public detail::Handle<ons_producer_t, ons_producer_start, ons_producer_shutdown,
                                       ons_producer_destroy, ons_producer_is_started, ons_producer_is_closed,
                                       ons_producer_update_credential, ons_producer_trace_counts> {
public:
    explicit Producer(const ONSFactoryProperty& properties) {
        detail::CProperties p(properties);
        detail::check(ons_producer_new(p.get(), &h_));
    }
    SendResultONS send(Message& msg) {
        ons_send_result_t* r = nullptr;
        detail::check(ons_producer_send(h_, msg.c_message(), &r));
        return detail::Access::take(r);
    }
    /** Sends to `mq`, a queue of the message's topic, in a single attempt (ons_producer_send_to_queue). */
    SendResultONS send(Message& msg, const MessageQueueONS& mq) {
        std::string topic = mq.getTopic(), brokerName = mq.getBrokerName();
        ons_message_queue_t queue;
        queue.topic = topic.c_str();
        queue.broker_name = brokerName.c_str();
        queue.queue_id = mq.getQueueId();
        ons_send_result_t* r = nullptr;
        detail::check(ons_producer_send_to_queue(h_, msg.c_message(), &queue, &r));
        return detail::Access::take(r);
    }
    /** `callback` must stay alive until it has been called. */
    void sendAsync(Message& msg, SendCallbackONS* callback) {
        detail::check(ons_producer_send_async(h_, msg.c_message(), detail::send_callback, callback));
    }
    void sendOneway(Message& msg) { detail::check(ons_producer_send_oneway(h_, msg.c_message())); }
    /** Sends messages of one topic in one request (no timed ones): one result each, in order. */
    std::vector<SendResultONS> sendBatch(const std::vector<Message>& msgs) {
        if (msgs.empty()) {
            throw ONSClientException("sendBatch: the batch is empty; it needs at least one message",
                                     ONS_ERR_INVALID_ARGUMENT);
        }
        std::vector<const ons_message_t*> cmsgs;
        cmsgs.reserve(msgs.size());
        for (size_t i = 0; i < msgs.size(); i++) {
            cmsgs.push_back(msgs[i].c_message());
        }
        std::vector<ons_send_result_t*> results(msgs.size(), nullptr);
        detail::check(ons_producer_send_batch(h_, cmsgs.data(), cmsgs.size(), results.data()));
        // Take every result (each is freed) before converting can throw.
        std::vector<SendResultONS> out;
        out.reserve(results.size());
        for (size_t i = 0; i < results.size(); i++) {
            ons_send_result_t* r = results[i];
            results[i] = nullptr;
            try {
                out.push_back(detail::Access::take(r));
            } catch (...) {
                for (size_t j = i + 1; j < results.size(); j++) {
                    ons_send_result_free(results[j]);
                }
                throw;
            }
        }
        return out;
    }
};

/** ONS OrderProducer: one sharding key, one queue, in order. */
class OrderProducer
    : public detail::Handle<ons_order_producer_t, ons_order_producer_start, ons_order_producer_shutdown,
                            ons_order_producer_destroy, ons_order_producer_is_started, ons_order_producer_is_closed,
                            ons_order_producer_update_credential, ons_order_producer_trace_counts> {
public:
    explicit OrderProducer(const ONSFactoryProperty& properties) {
        detail::CProperties p(properties);
        detail::check(ons_order_producer_new(p.get(), &h_));
    }
    SendResultONS send(Message& msg, const std::string& shardingKey) {
        ons_send_result_t* r = nullptr;
        detail::check(ons_order_producer_send(h_, msg.c_message(), shardingKey.c_str(), &r));
        return detail::Access::take(r);
    }
};

/** ONS TransactionProducer. The checker must outlive the producer. */
class TransactionProducer
    : public detail::Handle<ons_transaction_producer_t, ons_transaction_producer_start,
                            ons_transaction_producer_shutdown, ons_transaction_producer_destroy,
                            ons_transaction_producer_is_started, ons_transaction_producer_is_closed,
                            ons_transaction_producer_update_credential, ons_transaction_producer_trace_counts> {
public:
    TransactionProducer(const ONSFactoryProperty& properties, LocalTransactionChecker* checker) {
        if (checker == nullptr) {
            throw ONSClientException("checker is NULL", ONS_ERR_INVALID_ARGUMENT);
        }
        detail::CProperties p(properties);
        detail::check(ons_transaction_producer_new(p.get(), detail::transaction_checker, checker, &h_));
    }
    /** Sends a half message and runs `executer` on this thread before returning. */
    SendResultONS send(Message& msg, LocalTransactionExecuter* executer) {
        if (executer == nullptr) {
            throw ONSClientException("executer is NULL", ONS_ERR_INVALID_ARGUMENT);
        }
        ons_send_result_t* r = nullptr;
        detail::check(ons_transaction_producer_send(h_, msg.c_message(), detail::transaction_executer, executer, &r));
        return detail::Access::take(r);
    }
};

/** ONS PushConsumer (Consumer). Listeners must outlive the consumer. */
class PushConsumer : public detail::Handle<ons_consumer_t, ons_consumer_start, ons_consumer_shutdown,
                                           ons_consumer_destroy, ons_consumer_is_started, ons_consumer_is_closed,
                                           ons_consumer_update_credential, ons_consumer_trace_counts> {
public:
    explicit PushConsumer(const ONSFactoryProperty& properties) {
        detail::CProperties p(properties);
        detail::check(ons_consumer_new(p.get(), &h_));
    }
    /** `subExpression`: "*" (or NULL) for all tags, or tags separated by "||". */
    void subscribe(const char* topic, const char* subExpression, MessageListener* listener) {
        detail::check(ons_consumer_subscribe(h_, topic, subExpression, listener ? detail::message_listener : nullptr,
                                             listener));
    }
    /** Subscribes by tags or by an SQL92 condition (see MessageSelector). */
    void subscribe(const char* topic, const MessageSelector& selector, MessageListener* listener) {
        detail::check((selector.isSql() ? ons_consumer_subscribe_sql92 : ons_consumer_subscribe)(
            h_, topic, selector.getExpression(), listener ? detail::message_listener : nullptr, listener));
    }
    void unsubscribe(const char* topic) { detail::check(ons_consumer_unsubscribe(h_, topic)); }
};

/** ONS OrderConsumer. Listeners must outlive the consumer. */
class OrderConsumer
    : public detail::Handle<ons_order_consumer_t, ons_order_consumer_start, ons_order_consumer_shutdown,
                            ons_order_consumer_destroy, ons_order_consumer_is_started, ons_order_consumer_is_closed,
                            ons_order_consumer_update_credential, ons_order_consumer_trace_counts> {
public:
    explicit OrderConsumer(const ONSFactoryProperty& properties) {
        detail::CProperties p(properties);
        detail::check(ons_order_consumer_new(p.get(), &h_));
    }
    void subscribe(const char* topic, const char* subExpression, MessageOrderListener* listener) {
        detail::check(ons_order_consumer_subscribe(h_, topic, subExpression,
                                                   listener ? detail::order_listener : nullptr, listener));
    }
    /** Subscribes by tags or by an SQL92 condition (see MessageSelector). */
    void subscribe(const char* topic, const MessageSelector& selector, MessageOrderListener* listener) {
        detail::check((selector.isSql() ? ons_order_consumer_subscribe_sql92 : ons_order_consumer_subscribe)(
            h_, topic, selector.getExpression(), listener ? detail::order_listener : nullptr, listener));
    }
    void unsubscribe(const char* topic) { detail::check(ons_order_consumer_unsubscribe(h_, topic)); }
};

/** ONS BatchConsumer. Listeners must outlive the consumer. */
class BatchConsumer
    : public detail::Handle<ons_batch_consumer_t, ons_batch_consumer_start, ons_batch_consumer_shutdown,
                            ons_batch_consumer_destroy, ons_batch_consumer_is_started, ons_batch_consumer_is_closed,
                            ons_batch_consumer_update_credential, ons_batch_consumer_trace_counts> {
public:
    explicit BatchConsumer(const ONSFactoryProperty& properties) {
        detail::CProperties p(properties);
        detail::check(ons_batch_consumer_new(p.get(), &h_));
    }
    void subscribe(const char* topic, const char* subExpression, BatchMessageListener* listener) {
        detail::check(ons_batch_consumer_subscribe(h_, topic, subExpression,
                                                   listener ? detail::batch_listener : nullptr, listener));
    }
    /** Subscribes by tags or by an SQL92 condition (see MessageSelector). */
    void subscribe(const char* topic, const MessageSelector& selector, BatchMessageListener* listener) {
        detail::check((selector.isSql() ? ons_batch_consumer_subscribe_sql92 : ons_batch_consumer_subscribe)(
            h_, topic, selector.getExpression(), listener ? detail::batch_listener : nullptr, listener));
    }
    void unsubscribe(const char* topic) { detail::check(ons_batch_consumer_unsubscribe(h_, topic)); }
};

/**
 * ONS PullConsumer: assign queues (or subscribe to topics), then poll. Every call blocks the
 * calling thread while it talks to the brokers; no callback is involved. Errors are thrown as
 * ONSClientException. RAII as the other handles.
 */
class PullConsumer {
public:
    explicit PullConsumer(const ONSFactoryProperty& properties) : h_(nullptr) {
        detail::CProperties p(properties);
        detail::check(ons_pull_consumer_new(p.get(), &h_));
    }
    PullConsumer(PullConsumer&& other) noexcept : h_(other.h_) { other.h_ = nullptr; }
    PullConsumer& operator=(PullConsumer&& other) noexcept {
        std::swap(h_, other.h_);
        return *this;
    }
    PullConsumer(const PullConsumer&) = delete;
    PullConsumer& operator=(const PullConsumer&) = delete;
    /* Shuts down (unless done) and releases the handle; errors cannot be reported here. */
    ~PullConsumer() { ons_pull_consumer_destroy(h_); }

    void start() { detail::check(ons_pull_consumer_start(h_)); }
    /** Stops pulling, commits what poll returned (with autoCommit), leaves the group. */
    void shutdown() { detail::check(ons_pull_consumer_shutdown(h_)); }
    bool isStarted() const { return flag(ons_pull_consumer_is_started); }
    bool isClosed() const { return flag(ons_pull_consumer_is_closed); }
    /** The ONS SDK's updateCredential, as the other clients have it. */
    void updateCredential(const ONSFactoryProperty& credentials) {
        detail::CProperties p(credentials);
        detail::check(ons_pull_consumer_update_credential(h_, p.get()));
    }
    /** What this consumer's message traces came to, as the other clients' traceCounts(). */
    ons_trace_counts_t traceCounts() const {
        ons_trace_counts_t out{};
        detail::check(ons_pull_consumer_trace_counts(h_, &out));
        return out;
    }

    /** The queues of `topic` that can be consumed, from its route (started consumers). */
    std::vector<MessageQueueONS> topicPartitions(const std::string& topic) {
        ons_message_queue_list_t* list = nullptr;
        detail::check(ons_pull_consumer_topic_partitions(h_, topic.c_str(), &list));
        struct Free {
            ons_message_queue_list_t* list;
            ~Free() { ons_message_queue_list_free(list); }
        } guard = {list};
        std::vector<MessageQueueONS> out;
        out.reserve(list->count);
        for (size_t i = 0; i < list->count; i++) {
            const ons_message_queue_t& q = list->items[i];
            out.push_back(MessageQueueONS(q.topic, q.broker_name, q.queue_id));
        }
        return out;
    }
    /** Consumes exactly `queues` (no rebalance), replacing an earlier assignment. */
    void assign(const std::vector<MessageQueueONS>& queues) { withQueues(queues, ons_pull_consumer_assign); }
    /** Consumes `topic`'s messages matching `subExpression` ("*" or tags joined by "||") from
     * the queues the group's split gives this consumer. */
    void subscribe(const std::string& topic, const std::string& subExpression) {
        detail::check(ons_pull_consumer_subscribe(h_, topic.c_str(), subExpression.c_str()));
    }
    void unsubscribe(const std::string& topic) { detail::check(ons_pull_consumer_unsubscribe(h_, topic.c_str())); }
    /** Up to one pull's messages of one queue, oldest first; empty when none came within
     * `timeoutMs`. The messages are owned copies. */
    std::vector<Message> poll(long long timeoutMs) {
        ons_message_t** messages = nullptr;
        size_t count = 0;
        detail::check(ons_pull_consumer_poll(h_, timeoutMs, &messages, &count));
        std::vector<Message> out;
        try {
            out.reserve(count);
            for (size_t i = 0; i < count; i++) {
                // Copying the lent view makes an owned copy, which outlives the array.
                const Message lent = detail::Access::lend(messages[i]);
                out.push_back(lent);
            }
        } catch (...) {
            ons_message_array_free(messages, count);
            throw;
        }
        ons_message_array_free(messages, count);
        return out;
    }
    /** The next poll of `queue` (owned) starts at `offset`, within its stored range. */
    void seek(const MessageQueueONS& queue, long long offset) {
        Queue q(queue);
        detail::check(ons_pull_consumer_seek(h_, &q.c, offset));
    }
    void seekToBeginning(const MessageQueueONS& queue) {
        Queue q(queue);
        detail::check(ons_pull_consumer_seek_to_beginning(h_, &q.c));
    }
    void seekToEnd(const MessageQueueONS& queue) {
        Queue q(queue);
        detail::check(ons_pull_consumer_seek_to_end(h_, &q.c));
    }
    /** The offset of `queue`'s message stored at `timestampMs` (epoch ms), as the broker answers. */
    long long offsetForTimestamp(const MessageQueueONS& queue, long long timestampMs) {
        Queue q(queue);
        int64_t out = -1;
        detail::check(ons_pull_consumer_offset_for_timestamp(h_, &q.c, timestampMs, &out));
        return out;
    }
    /** The group's committed offset of `queue` (the next message to consume); -1 when the
     * broker has none (ons_pull_consumer_committed). */
    long long committed(const MessageQueueONS& queue) {
        Queue q(queue);
        int64_t out = -1;
        detail::check(ons_pull_consumer_committed(h_, &q.c, &out));
        return out;
    }
    /** Commits the offset after what poll returned of every owned queue, and waits for it. */
    void commitSync() { detail::check(ons_pull_consumer_commit_sync(h_)); }
    void pause(const std::vector<MessageQueueONS>& queues) { withQueues(queues, ons_pull_consumer_pause); }
    void resume(const std::vector<MessageQueueONS>& queues) { withQueues(queues, ons_pull_consumer_resume); }
    ons_pull_consumer_t* c_handle() const { return h_; }

private:
    /* A C view of a MessageQueueONS; the strings live as long as it does. */
    struct Queue {
        explicit Queue(const MessageQueueONS& q) : topic(q.getTopic()), broker(q.getBrokerName()) {
            c.topic = topic.c_str();
            c.broker_name = broker.c_str();
            c.queue_id = q.getQueueId();
        }
        Queue(const Queue& other) : topic(other.topic), broker(other.broker), c(other.c) {
            c.topic = topic.c_str();
            c.broker_name = broker.c_str();
        }
        Queue& operator=(const Queue&) = delete;
        std::string topic, broker;
        ons_message_queue_t c;
    };
    void withQueues(const std::vector<MessageQueueONS>& queues,
                    int32_t (*call)(ons_pull_consumer_t*, const ons_message_queue_t*, size_t)) {
        std::vector<Queue> views(queues.begin(), queues.end());
        std::vector<ons_message_queue_t> cqueues;
        cqueues.reserve(views.size());
        for (size_t i = 0; i < views.size(); i++) {
            cqueues.push_back(views[i].c);
        }
        detail::check(call(h_, cqueues.data(), cqueues.size()));
    }
    bool flag(int32_t (*f)(const ons_pull_consumer_t*, int32_t*)) const {
        int32_t out = 0;
        detail::check(f(h_, &out));
        return out != 0;
    }

    ons_pull_consumer_t* h_;
};

/**
 * The SDK's factory: create* returns an object owned by the factory, released when the
 * process exits (static destruction) or by destroy*. Thread-safe.
 */
class ONSFactoryAPI {
public:
    Producer* createProducer(const ONSFactoryProperty& properties) { return keep(new Producer(properties)); }
    OrderProducer* createOrderProducer(const ONSFactoryProperty& properties) { return keep(new OrderProducer(properties)); }
    TransactionProducer* createTransactionProducer(const ONSFactoryProperty& properties, LocalTransactionChecker* checker) {
        return keep(new TransactionProducer(properties, checker));
    }
    PushConsumer* createPushConsumer(const ONSFactoryProperty& properties) { return keep(new PushConsumer(properties)); }
    OrderConsumer* createOrderConsumer(const ONSFactoryProperty& properties) { return keep(new OrderConsumer(properties)); }
    BatchConsumer* createBatchConsumer(const ONSFactoryProperty& properties) { return keep(new BatchConsumer(properties)); }
    PullConsumer* createPullConsumer(const ONSFactoryProperty& properties) { return keep(new PullConsumer(properties)); }

    /** Shuts down and releases one object made by this factory (no-op for others). */
    template <typename T>
    void destroy(T* object) {
        std::unique_ptr<Owned> released;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (typename std::vector<std::unique_ptr<Owned> >::iterator it = owned_.begin(); it != owned_.end(); ++it) {
                if ((*it)->get() == static_cast<void*>(object)) {
                    released = std::move(*it);
                    owned_.erase(it);
                    break;
                }
            }
        }
    }

    ~ONSFactoryAPI() {
        // Newest first: consumers made after producers go before them.
        while (!owned_.empty()) {
            owned_.pop_back();
        }
    }

private:
    struct Owned {
        virtual ~Owned() {}
        virtual void* get() = 0;
    };
    template <typename T>
    struct OwnedT : Owned {
        explicit OwnedT(T* p) : object(p) {}
        void* get() override { return object.get(); }
        std::unique_ptr<T> object;
    };
    template <typename T>
    T* keep(T* object) {
        std::unique_ptr<T> guard(object);
        std::unique_ptr<Owned> entry(new OwnedT<T>(guard.get()));
        guard.release();  // `entry` owns it now
        std::lock_guard<std::mutex> lock(mutex_);
        owned_.push_back(std::move(entry));
        return object;
    }

    std::mutex mutex_;
    std::vector<std::unique_ptr<Owned> > owned_;
};

/**
 * Receives one log record of the library: level (ONS_LOG_ERROR .. ONS_LOG_TRACE), target (the
 * library module that logged it), message (the text, then its fields as " key=value").
 */
typedef std::function<void(int level, const std::string& target, const std::string& message)> LogHandler;

namespace detail {
/* The handler set through ONSFactory::setLogHandler. Never freed at exit: the library's log
 * thread may still be running then. */
inline LogHandler*& current_log_handler() {
    static LogHandler* handler = nullptr;
    return handler;
}

inline void log_trampoline(void* user_data, int32_t level, const char* target, const char* message) {
    try {
        (*static_cast<LogHandler*>(user_data))(level, target, message);
    } catch (...) {
    }
}
}  // namespace detail

class ONSFactory {
public:
    static ONSFactoryAPI* getInstance() {
        static ONSFactoryAPI instance;
        return &instance;
    }

    /**
     * Sends the library's log records at minLevel (ONS_LOG_*) and above to handler, called on a
     * library thread of its own, one record at a time (ons_set_log_handler). An empty handler
     * restores the default: WARN and ERROR lines on stderr, or what the ONS_LOG environment
     * variable says. Not to be called from inside a handler. Throws ONSClientException for a
     * level outside ONS_LOG_ERROR .. ONS_LOG_TRACE.
     */
    static void setLogHandler(LogHandler handler, int minLevel = ONS_LOG_WARN) {
        static std::mutex setting;
        std::lock_guard<std::mutex> lock(setting);
        std::unique_ptr<LogHandler> next(handler ? new LogHandler(std::move(handler)) : nullptr);
        detail::check(ons_set_log_handler(next ? detail::log_trampoline : nullptr, next.get(), minLevel));
        // ons_set_log_handler returned: the previous handler is no longer called.
        delete detail::current_log_handler();
        detail::current_log_handler() = next.release();
    }
};

}  // namespace ons

#endif
