# Type stubs of the extension module (py/src). tests/test_stubs.py checks them against the
# module at run time; mypy checks the package and the examples against them.
import asyncio
import datetime
from typing import (Any, Awaitable, Callable, ClassVar, Dict, Final, Iterable, List, Literal, Mapping, Optional, Protocol,
                    Tuple, TypeVar, Union, overload)

from . import (Action, BrokerRole, DirectConsumeResult, OnExceptionContext, OrderAction, Perm, ResetPosition,
               RetryPolicyType, TrackType, TransactionStatus)

_Body = Union[bytes, bytearray, memoryview, str]
_Properties = Optional[Mapping[str, Any]]
_T = TypeVar("_T")

__version__: str

class ONSClientException(Exception):
    code: ClassVar[int]
    kind: ClassVar[str]
    response_code: Optional[int]
    api_code: Optional[str]
    message_id: Optional[str]
    topic: Optional[str]

class InvalidConfigError(ONSClientException, ValueError): ...
class InvalidArgumentError(ONSClientException, ValueError): ...
class NotStartedError(ONSClientException, RuntimeError): ...
class ONSTimeoutError(ONSClientException, TimeoutError): ...
class NetworkError(ONSClientException, ConnectionError): ...
class ProtocolError(ONSClientException): ...
class BrokerError(ONSClientException): ...
class TopicNotFoundError(ONSClientException): ...
class AuthenticationError(ONSClientException): ...
class ONSPermissionError(ONSClientException, PermissionError): ...
class BusyError(ONSClientException): ...
class ApiError(ONSClientException): ...
class CallbackError(ONSClientException): ...
class InternalError(ONSClientException): ...

class PropertyKeyConst:
    NAMESRV_ADDR: ClassVar[str]
    ONSAddr: ClassVar[str]
    GROUP_ID: ClassVar[str]
    ProducerId: ClassVar[str]
    ConsumerId: ClassVar[str]
    AccessKey: ClassVar[str]
    SecretKey: ClassVar[str]
    SecurityToken: ClassVar[str]
    OnsChannel: ClassVar[str]
    INSTANCE_ID: ClassVar[str]
    Namespace: ClassVar[str]
    InstanceName: ClassVar[str]
    MessageModel: ClassVar[str]
    SendMsgTimeoutMillis: ClassVar[str]
    SendMsgRetryTimes: ClassVar[str]
    ConsumeThreadNums: ClassVar[str]
    MaxReconsumeTimes: ClassVar[str]
    ConsumeTimeout: ClassVar[str]
    ConsumeMessageBatchMaxSize: ClassVar[str]
    CheckImmunityTimeInSeconds: ClassVar[str]
    SuspendTimeMillis: ClassVar[str]
    MaxCachedMessageAmount: ClassVar[str]
    MaxCachedMessageSizeInMiB: ClassVar[str]
    MAX_BATCH_MESSAGE_COUNT: ClassVar[str]
    BatchConsumeMaxAwaitDurationInSeconds: ClassVar[str]
    ALLOCATE_MESSAGE_QUEUE_STRATEGY_NAME: ClassVar[str]
    isVipChannelEnabled: ClassVar[str]
    MsgTraceSwitch: ClassVar[str]
    RAM_ROLE_NAME: ClassVar[str]
    MQType: ClassVar[str]
    PostSubscriptionWhenPull: ClassVar[str]
    MsgTraceSelectQueueEnable: ClassVar[str]
    MqttMessageId: ClassVar[str]
    MqttMessage: ClassVar[str]
    MqttPublishRetain: ClassVar[str]
    MqttPublishDubFlag: ClassVar[str]
    MqttSecondTopic: ClassVar[str]
    MqttClientId: ClassVar[str]
    MqttQOS: ClassVar[str]
    EXACTLYONCE_DELIVERY: ClassVar[str]
    EXACTLYONCE_RM_REFRESHINTERVAL: ClassVar[str]
    ENABLE_ORDERLY_CONSUME_ACCELERATOR: ClassVar[str]
    AUTO_COMMIT: ClassVar[str]
    AUTO_COMMIT_INTERVAL_MILLIS: ClassVar[str]
    POLL_TIMEOUT_MILLIS: ClassVar[str]
    shardingKey: ClassVar[str]
    HeaderFormat: ClassVar[str]
    CompressMsgBodyOverHowmuch: ClassVar[str]
    CompressType: ClassVar[str]
    CompressLevel: ClassVar[str]
    LanguageAsJava: ClassVar[str]
    TRACE_TOPIC_NAME: ClassVar[str]
    AccessChannel: ClassVar[str]
    ConsumeFromWhere: ClassVar[str]
    ConsumeTimestamp: ClassVar[str]
    OffsetStoreDir: ClassVar[str]
    TlsEnable: ClassVar[str]
    TlsCaFile: ClassVar[str]
    TlsInsecureSkipVerify: ClassVar[str]
    TlsServerName: ClassVar[str]
    AllowUnknownProperties: ClassVar[str]

_OPTION_KEYWORDS: Dict[str, str]
_ERROR_CLASS_NAMES: List[str]
_ACTION_NAMES: List[str]
_ORDER_ACTION_NAMES: List[str]
_PERM_READ: int
_PERM_WRITE: int

class Message:
    topic: str
    tag: Optional[str]
    key: Optional[str]
    msg_id: Optional[str]
    reconsume_times: int
    born_timestamp: Optional[int]
    start_deliver_time: Optional[int]
    sharding_key: Optional[str]
    # The ONS order: Message(topic, tag, body), Message(topic, tag, key, body), or keywords.
    @overload
    def __init__(
        self,
        topic: str = "",
        *,
        body: Optional[_Body] = None,
        tag: Optional[str] = None,
        key: Optional[str] = None,
        user_properties: Optional[Mapping[str, str]] = None,
        start_deliver_time: Optional[int] = None,
        sharding_key: Optional[str] = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        topic: str,
        tag: Optional[str],
        body: Optional[_Body],
        /,
        *,
        key: Optional[str] = None,
        user_properties: Optional[Mapping[str, str]] = None,
        start_deliver_time: Optional[int] = None,
        sharding_key: Optional[str] = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        topic: str,
        tag: Optional[str],
        key: Optional[str],
        body: Optional[_Body],
        /,
        *,
        user_properties: Optional[Mapping[str, str]] = None,
        start_deliver_time: Optional[int] = None,
        sharding_key: Optional[str] = None,
    ) -> None: ...
    @property
    def body(self) -> bytes: ...
    @body.setter
    def body(self, value: _Body) -> None: ...
    @property
    def born_host(self) -> Optional[str]: ...
    @property
    def user_properties(self) -> Dict[str, str]: ...
    @property
    def queue_id(self) -> Optional[int]: ...
    @property
    def queue_offset(self) -> Optional[int]: ...
    @property
    def broker_name(self) -> Optional[str]: ...
    @property
    def offset_msg_id(self) -> Optional[str]: ...
    @property
    def store_timestamp(self) -> Optional[int]: ...
    def put_user_properties(self, key: str, value: str) -> None: ...
    def get_user_properties(self, key: str) -> Optional[str]: ...

class SendResult:
    @property
    def message_id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def broker_name(self) -> str: ...
    @property
    def queue_id(self) -> int: ...
    @property
    def queue_offset(self) -> int: ...
    @property
    def offset_msg_id(self) -> str: ...
    @property
    def transaction_id(self) -> Optional[str]: ...

class ConsumeContext:
    @property
    def topic(self) -> str: ...
    @property
    def broker_name(self) -> str: ...
    @property
    def queue_id(self) -> int: ...

class TraceCounts:
    """What a client's message traces came to (MsgTraceSwitch): records sent, records dropped."""
    @property
    def sent(self) -> int: ...
    @property
    def dropped(self) -> int: ...

_Self = TypeVar("_Self", bound="_Client")

class _Client:
    def start(self) -> None: ...
    def shutdown(self) -> None: ...
    def shutdown_async(self) -> Awaitable[None]: ...
    def is_started(self) -> bool: ...
    def is_closed(self) -> bool: ...
    def trace_counts(self) -> Optional[TraceCounts]: ...
    def update_credential(self, properties: _Properties = None, **options: Any) -> None: ...
    def __enter__(self: _Self) -> _Self: ...
    def __exit__(self, *args: object) -> bool: ...
    def __aenter__(self: _Self) -> Awaitable[_Self]: ...
    def __aexit__(self, *args: object) -> Awaitable[bool]: ...

class _SendCallbackObject(Protocol):
    """ONS `SendCallback` (stub only: any object with these methods): send_async takes it besides a callable."""
    def on_success(self, result: SendResult) -> object: ...
    def on_exception(self, context: OnExceptionContext) -> object: ...

_SendCallback = Union[Callable[[Optional[SendResult], Optional[BaseException]], object], _SendCallbackObject]

class Producer(_Client):
    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def send(self, message: Message) -> SendResult: ...
    @overload
    def send_async(self, message: Message) -> Awaitable[SendResult]: ...
    @overload
    def send_async(self, message: Message, callback: _SendCallback) -> None: ...
    def send_oneway(self, message: Message) -> None: ...
    def send_batch(self, messages: Iterable[Message]) -> List[SendResult]: ...

class OrderProducer(_Client):
    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def send(self, message: Message, sharding_key: str) -> SendResult: ...
    def send_async(self, message: Message, sharding_key: str) -> Awaitable[SendResult]: ...

_Status = Union[TransactionStatus, str, None, Awaitable[Union[TransactionStatus, str, None]]]
_Executor = Callable[[Message, Any], _Status]
_Checker = Callable[[Message], _Status]

class TransactionProducer(_Client):
    def __init__(self, properties: _Properties = None, checker: Any = None, **options: Any) -> None: ...
    def send(self, message: Message, executor: Any, arg: Any = None) -> SendResult: ...
    def send_async(self, message: Message, executor: Any, arg: Any = None) -> Awaitable[SendResult]: ...

class MessageSelector:
    @staticmethod
    def by_tag(expression: str) -> MessageSelector: ...
    @staticmethod
    def by_sql(sql: str) -> MessageSelector: ...
    @property
    def expression_type(self) -> Literal["TAG", "SQL92"]: ...
    @property
    def expression(self) -> str: ...

_Expression = Union[str, MessageSelector, None]
_Result = Union[Action, str, None]
_OrderResult = Union[OrderAction, str, None]
_Listener = Union[Callable[[Message, ConsumeContext], Union[_Result, Awaitable[_Result]]], Any]
_OrderListener = Union[Callable[[Message, ConsumeContext], Union[_OrderResult, Awaitable[_OrderResult]]], Any]
_BatchListener = Union[Callable[[List[Message], ConsumeContext], Union[_Result, Awaitable[_Result]]], Any]

class Consumer(_Client):
    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def subscribe(self, topic: str, expression: _Expression = None, listener: Optional[_Listener] = None) -> None: ...
    def unsubscribe(self, topic: str) -> None: ...

class OrderConsumer(_Client):
    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def subscribe(self, topic: str, expression: _Expression = None, listener: Optional[_OrderListener] = None) -> None: ...
    def unsubscribe(self, topic: str) -> None: ...

class BatchConsumer(_Client):
    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def subscribe(self, topic: str, expression: _Expression = None, listener: Optional[_BatchListener] = None) -> None: ...
    def unsubscribe(self, topic: str) -> None: ...

class PullConsumer(_Client):
    """ONS `PullConsumer` (DefaultLitePullConsumer semantics): `assign` queues or `subscribe`
    topics, then `poll`. Calls that wait for brokers also come as `<method>_async` awaitables;
    `for batch in consumer` / `async for batch in consumer` yield non-empty batches until
    shutdown."""

    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def subscribe(self, topic: str, expression: _Expression = None) -> None: ...
    def unsubscribe(self, topic: str) -> None: ...
    def assign(self, queues: Iterable[MessageQueue]) -> None: ...
    def assignment(self) -> List[MessageQueue]: ...
    def pause(self, queues: Iterable[MessageQueue]) -> None: ...
    def resume(self, queues: Iterable[MessageQueue]) -> None: ...
    def topic_partitions(self, topic: str) -> List[MessageQueue]: ...
    def topic_partitions_async(self, topic: str) -> Awaitable[List[MessageQueue]]: ...
    def poll(self, timeout: Optional[float] = None) -> List[Message]: ...
    def poll_async(self, timeout: Optional[float] = None) -> Awaitable[List[Message]]: ...
    def seek(self, queue: MessageQueue, offset: int) -> None: ...
    def seek_async(self, queue: MessageQueue, offset: int) -> Awaitable[None]: ...
    def seek_to_beginning(self, queue: MessageQueue) -> None: ...
    def seek_to_beginning_async(self, queue: MessageQueue) -> Awaitable[None]: ...
    def seek_to_end(self, queue: MessageQueue) -> None: ...
    def seek_to_end_async(self, queue: MessageQueue) -> Awaitable[None]: ...
    def offset_for_timestamp(self, queue: MessageQueue, timestamp_ms: int) -> int: ...
    def offset_for_timestamp_async(self, queue: MessageQueue, timestamp_ms: int) -> Awaitable[int]: ...
    def committed(self, queue: MessageQueue) -> Optional[int]: ...
    def committed_async(self, queue: MessageQueue) -> Awaitable[Optional[int]]: ...
    def commit_sync(self) -> None: ...
    def commit_sync_async(self) -> Awaitable[None]: ...
    def register_topic_partition_change_listener(
        self, topic: str, listener: Callable[[str, List[MessageQueue]], object]) -> None: ...
    def __iter__(self) -> PullConsumer: ...
    def __next__(self) -> List[Message]: ...
    def __aiter__(self) -> PullConsumer: ...
    def __anext__(self) -> Awaitable[List[Message]]: ...

# Admin's values: frozen classes, whose fields are read-only attributes.

class MessageQueue:
    def __init__(self, topic: str, broker_name: str, queue_id: int) -> None: ...
    topic: Final[str]
    broker_name: Final[str]
    queue_id: Final[int]

class ClusterBroker:
    cluster: Final[str]
    broker_name: Final[str]
    broker_id: Final[int]
    addr: Final[str]
    role: Final[BrokerRole]
    version: Final[Optional[str]]
    runtime: Final[Dict[str, str]]
    runtime_error: Final[Optional[str]]

class RouteBroker:
    cluster: Final[str]
    broker_name: Final[str]
    addrs: Final[Dict[int, str]]

class RouteQueues:
    broker_name: Final[str]
    read_queue_nums: Final[int]
    write_queue_nums: Final[int]
    perm: Final[Perm]
    topic_sys_flag: Final[int]

class TopicRouteInfo:
    brokers: Final[List[RouteBroker]]
    queues: Final[List[RouteQueues]]
    order_topic_conf: Final[Optional[str]]

class QueueOffsets:
    queue: Final[MessageQueue]
    min_offset: Final[int]
    max_offset: Final[int]
    last_update_timestamp: Final[int]

class TopicStats:
    queues: Final[List[QueueOffsets]]
    put_tps: Final[float]

class ExponentialRetryPolicy:
    def __init__(self, initial: Optional[int] = None, max: Optional[int] = None,
                 multiplier: Optional[int] = None) -> None: ...
    initial: Final[int]
    max: Final[int]
    multiplier: Final[int]

class CustomizedRetryPolicy:
    def __init__(self, next: List[int] = ...) -> None: ...
    next: Final[List[int]]

class GroupRetryPolicy:
    def __init__(self, policy_type: Union[RetryPolicyType, str],
                 exponential_retry_policy: Optional[ExponentialRetryPolicy] = None,
                 customized_retry_policy: Optional[CustomizedRetryPolicy] = None) -> None: ...
    policy_type: Final[RetryPolicyType]
    exponential_retry_policy: Final[Optional[ExponentialRetryPolicy]]
    customized_retry_policy: Final[Optional[CustomizedRetryPolicy]]

class SubscriptionGroupConfig:
    def __init__(
        self,
        group_name: str,
        *,
        consume_enable: Optional[bool] = None,
        consume_from_min_enable: Optional[bool] = None,
        consume_broadcast_enable: Optional[bool] = None,
        consume_message_orderly: Optional[bool] = None,
        retry_queue_nums: Optional[int] = None,
        retry_max_times: Optional[int] = None,
        group_retry_policy: Optional[GroupRetryPolicy] = None,
        broker_id: Optional[int] = None,
        which_broker_when_consume_slowly: Optional[int] = None,
        notify_consumer_ids_changed_enable: Optional[bool] = None,
        group_sys_flag: Optional[int] = None,
        consume_timeout_minute: Optional[int] = None,
        attributes: Optional[Mapping[str, str]] = None,
    ) -> None: ...
    group_name: Final[str]
    consume_enable: Final[bool]
    consume_from_min_enable: Final[bool]
    consume_broadcast_enable: Final[bool]
    consume_message_orderly: Final[bool]
    retry_queue_nums: Final[int]
    retry_max_times: Final[int]
    group_retry_policy: Final[Optional[GroupRetryPolicy]]
    broker_id: Final[int]
    which_broker_when_consume_slowly: Final[int]
    notify_consumer_ids_changed_enable: Final[bool]
    group_sys_flag: Final[int]
    consume_timeout_minute: Final[int]
    attributes: Final[Dict[str, str]]

class BrokerSubscriptionGroups:
    broker_name: Final[str]
    addr: Final[str]
    groups: Final[List[SubscriptionGroupConfig]]

class ConsumerClient:
    client_id: Final[str]
    language: Final[str]
    version: Final[int]
    client_addrs: Final[Dict[str, str]]

class ConsumerSubscription:
    topic: Final[str]
    sub_string: Final[str]
    expression_type: Final[str]
    tags: Final[List[str]]
    sub_version: Final[int]

class ConsumerConnections:
    clients: Final[List[ConsumerClient]]
    subscriptions: Final[List[ConsumerSubscription]]
    consume_type: Final[Optional[str]]
    message_model: Final[Optional[str]]
    consume_from_where: Final[Optional[str]]

class QueueConsumeStats:
    queue: Final[MessageQueue]
    broker_offset: Final[int]
    consumer_offset: Final[int]
    pull_offset: Final[Optional[int]]
    lag: Final[int]
    last_timestamp: Final[int]

class ConsumeStats:
    queues: Final[List[QueueConsumeStats]]
    consume_tps: Final[float]
    total_lag: Final[int]
    total_inflight: Final[int]

class QueueOffset:
    queue: Final[MessageQueue]
    offset: Final[int]

class ProcessQueueInfo:
    queue: Final[MessageQueue]
    commit_offset: Final[int]
    cached_msg_min_offset: Final[int]
    cached_msg_max_offset: Final[int]
    cached_msg_count: Final[int]
    cached_msg_size_mib: Final[int]
    locked: Final[bool]
    try_unlock_times: Final[int]
    last_lock_timestamp: Final[int]
    dropped: Final[bool]
    last_pull_timestamp: Final[int]
    last_consume_timestamp: Final[int]

class ConsumeStatus:
    pull_rt: Final[float]
    pull_tps: Final[float]
    consume_rt: Final[float]
    consume_ok_tps: Final[float]
    consume_failed_tps: Final[float]
    consume_failed_msgs: Final[int]

class ConsumerRunningInfo:
    properties: Final[Dict[str, str]]
    subscriptions: Final[List[ConsumerSubscription]]
    queues: Final[List[ProcessQueueInfo]]
    status: Final[Dict[str, ConsumeStatus]]
    jstack: Final[Optional[str]]
    consume_type: Final[Optional[str]]
    orderly: Final[bool]

class ConsumeMessageDirectlyResult:
    result: Final[Optional[DirectConsumeResult]]
    order: Final[bool]
    auto_commit: Final[bool]
    remark: Final[Optional[str]]
    spent_time_ms: Final[int]

class MessageTrack:
    group: Final[str]
    track_type: Final[TrackType]
    error: Final[Optional[str]]

_ResetTo = Union[ResetPosition, int, datetime.datetime]

class Admin:
    """Every method has an awaitable twin named `<method>_async`, taking the same arguments."""

    def __init__(self, properties: _Properties = None, **options: Any) -> None: ...
    def cluster_list(self) -> List[ClusterBroker]: ...
    def cluster_list_async(self) -> Awaitable[List[ClusterBroker]]: ...
    def broker_runtime_info(self, addr: str) -> Dict[str, str]: ...
    def broker_runtime_info_async(self, addr: str) -> Awaitable[Dict[str, str]]: ...
    def update_topic(self, cluster: str, topic: str, read_queue_nums: int = 8, write_queue_nums: Optional[int] = None,
                     perm: Optional[Union[Perm, int]] = None, order: bool = False) -> List[str]: ...
    def update_topic_async(self, cluster: str, topic: str, read_queue_nums: int = 8,
                           write_queue_nums: Optional[int] = None, perm: Optional[Union[Perm, int]] = None,
                           order: bool = False) -> Awaitable[List[str]]: ...
    def create_topic(self, topic: str, queue_nums: int = 8, order: bool = False) -> None: ...
    def create_topic_async(self, topic: str, queue_nums: int = 8, order: bool = False) -> Awaitable[None]: ...
    def delete_topic(self, cluster: str, topic: str) -> None: ...
    def delete_topic_async(self, cluster: str, topic: str) -> Awaitable[None]: ...
    def list_topics(self) -> List[str]: ...
    def list_topics_async(self) -> Awaitable[List[str]]: ...
    def topic_route(self, topic: str) -> TopicRouteInfo: ...
    def topic_route_async(self, topic: str) -> Awaitable[TopicRouteInfo]: ...
    def topic_stats(self, topic: str) -> TopicStats: ...
    def topic_stats_async(self, topic: str) -> Awaitable[TopicStats]: ...
    def update_subscription_group(self, cluster: str, config: SubscriptionGroupConfig) -> List[str]: ...
    def update_subscription_group_async(self, cluster: str,
                                        config: SubscriptionGroupConfig) -> Awaitable[List[str]]: ...
    def delete_subscription_group(self, cluster: str, group: str, clean_offset: bool = False) -> List[str]: ...
    def delete_subscription_group_async(self, cluster: str, group: str,
                                        clean_offset: bool = False) -> Awaitable[List[str]]: ...
    def list_subscription_groups(self, cluster: str) -> List[BrokerSubscriptionGroups]: ...
    def list_subscription_groups_async(self, cluster: str) -> Awaitable[List[BrokerSubscriptionGroups]]: ...
    def consumer_connections(self, group: str) -> ConsumerConnections: ...
    def consumer_connections_async(self, group: str) -> Awaitable[ConsumerConnections]: ...
    def consumer_running_info(self, group: str, client_id: str) -> ConsumerRunningInfo: ...
    def consumer_running_info_async(self, group: str, client_id: str) -> Awaitable[ConsumerRunningInfo]: ...
    def consume_stats(self, group: str, topic: Optional[str] = None) -> ConsumeStats: ...
    def consume_stats_async(self, group: str, topic: Optional[str] = None) -> Awaitable[ConsumeStats]: ...
    def reset_offsets(self, group: str, topic: str, to: _ResetTo) -> List[QueueOffset]: ...
    def reset_offsets_async(self, group: str, topic: str, to: _ResetTo) -> Awaitable[List[QueueOffset]]: ...
    def message_by_id(self, topic: str, msg_id: str) -> Optional[Message]: ...
    def message_by_id_async(self, topic: str, msg_id: str) -> Awaitable[Optional[Message]]: ...
    def view_message(self, topic: str, offset_msg_id: str) -> Message: ...
    def view_message_async(self, topic: str, offset_msg_id: str) -> Awaitable[Message]: ...
    def query_messages(self, topic: str, key: str, begin_ms: int, end_ms: int,
                       max_per_broker: int = 64) -> List[Message]: ...
    def query_messages_async(self, topic: str, key: str, begin_ms: int, end_ms: int,
                             max_per_broker: int = 64) -> Awaitable[List[Message]]: ...
    def read_queue(self, topic: str, broker_name: str, queue_id: int, begin: int, end: int) -> List[Message]: ...
    def read_queue_async(self, topic: str, broker_name: str, queue_id: int, begin: int,
                         end: int) -> Awaitable[List[Message]]: ...
    def max_offsets(self, topic: str) -> List[QueueOffset]: ...
    def max_offsets_async(self, topic: str) -> Awaitable[List[QueueOffset]]: ...
    def consume_message_directly(self, group: str, client_id: str, topic: str,
                                 msg_id: str) -> ConsumeMessageDirectlyResult: ...
    def consume_message_directly_async(self, group: str, client_id: str, topic: str,
                                       msg_id: str) -> Awaitable[ConsumeMessageDirectlyResult]: ...
    def message_track(self, topic: str, msg_id: str) -> List[MessageTrack]: ...
    def message_track_async(self, topic: str, msg_id: str) -> Awaitable[List[MessageTrack]]: ...
    def groups_of_topic(self, topic: str) -> List[str]: ...
    def groups_of_topic_async(self, topic: str) -> Awaitable[List[str]]: ...

class _LoopBridge:
    """An event loop's inbox of finished futures (internal)."""

    def __init__(self) -> None: ...
    @property
    def fileno(self) -> int: ...
    @property
    def pid(self) -> int: ...
    def drain(self) -> None: ...
    def wake(self) -> None: ...
    def close(self) -> None: ...

def _completion_pump(call_send_callback: Callable[[Any, bool, Any], None]) -> None: ...
def _log_pump(emit_logs: Callable[[List[Tuple[int, str, str]], int], int]) -> None: ...
def _at_exit(timeout: float) -> None: ...
def _core_consume_bench(topic: str, messages: int, timeout: float, properties: _Properties = None,
                        **options: Any) -> Tuple[int, float]: ...

class OpenApiClient:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, *, region_id: Optional[str] = None,
                 security_token: Optional[str] = None) -> None: ...
    def call(self, path: str, params: Optional[Mapping[str, str]] = None) -> Dict[str, Any]: ...
    def call_async(self, path: str, params: Optional[Mapping[str, str]] = None) -> Awaitable[Dict[str, Any]]: ...

class AsapiClient:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, region_id: str, *,
                 security_token: Optional[str] = None) -> None: ...
    def call(self, product: str, action: str, version: str,
             params: Optional[Mapping[str, str]] = None) -> Dict[str, Any]: ...
    def call_async(self, product: str, action: str, version: str,
                   params: Optional[Mapping[str, str]] = None) -> Awaitable[Dict[str, Any]]: ...
