"""RocketMQ client with the Alibaba Cloud ONS API, on a Rust core.

    from rocketmq_ons import ONSFactory, PropertyKeyConst, Message

    with ONSFactory.create_producer({PropertyKeyConst.NAMESRV_ADDR: "127.0.0.1:9876",
                                     PropertyKeyConst.GROUP_ID: "GID_demo"}) as producer:
        result = producer.send(Message("TopicA", b"hello", tag="TagA"))

Sync methods release the GIL while they wait; `send_async`, `shutdown_async` and the
`*_async` methods of `Admin` and `PullConsumer` are awaitables; listeners may be coroutine
functions. Errors are `ONSClientException` subclasses with `.code`. The core logs through the
`rocketmq_ons` logger.
"""

from __future__ import annotations

import atexit
import enum
import os
import threading

# typing is imported by type checkers only (annotations are strings here): at run time it would
# be a good part of the package's import time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

    Properties = Optional[Mapping[str, Any]]

from . import _native
from ._native import (
    Admin,
    ApiError,
    AsapiClient,
    AuthenticationError,
    BatchConsumer,
    BrokerError,
    BrokerSubscriptionGroups,
    BusyError,
    CallbackError,
    ClusterBroker,
    ConsumeContext,
    ConsumeMessageDirectlyResult,
    Consumer,
    ConsumerClient,
    ConsumerConnections,
    ConsumerRunningInfo,
    ConsumerSubscription,
    ConsumeStats,
    ConsumeStatus,
    CustomizedRetryPolicy,
    ExponentialRetryPolicy,
    GroupRetryPolicy,
    InternalError,
    InvalidArgumentError,
    InvalidConfigError,
    Message,
    MessageQueue,
    MessageSelector,
    MessageTrack,
    NetworkError,
    NotStartedError,
    ONSClientException,
    ONSPermissionError,
    ONSTimeoutError,
    OpenApiClient,
    OrderConsumer,
    OrderProducer,
    ProcessQueueInfo,
    Producer,
    PropertyKeyConst,
    ProtocolError,
    PullConsumer,
    QueueConsumeStats,
    QueueOffset,
    QueueOffsets,
    RouteBroker,
    RouteQueues,
    SendResult,
    SubscriptionGroupConfig,
    TopicNotFoundError,
    TopicRouteInfo,
    TopicStats,
    TraceCounts,
    TransactionProducer,
)

#: The package's version (the wheel's, which is the Rust crate's).
__version__: str = _native.__version__

__all__ = [
    "__version__",
    "Action",
    "Admin",
    "ApiError",
    "AsapiClient",
    "AuthenticationError",
    "BatchConsumer",
    "BrokerError",
    "BrokerRole",
    "BrokerSubscriptionGroups",
    "BusyError",
    "CallbackError",
    "ClusterBroker",
    "ConsumeContext",
    "ConsumeMessageDirectlyResult",
    "Consumer",
    "ConsumerClient",
    "ConsumerConnections",
    "ConsumerRunningInfo",
    "ConsumerSubscription",
    "ConsumeStats",
    "ConsumeStatus",
    "CustomizedRetryPolicy",
    "DirectConsumeResult",
    "ExponentialRetryPolicy",
    "GroupRetryPolicy",
    "InternalError",
    "InvalidArgumentError",
    "InvalidConfigError",
    "Message",
    "MessageQueue",
    "MessageSelector",
    "MessageTrack",
    "NetworkError",
    "NotStartedError",
    "OnExceptionContext",
    "ONSClientException",
    "ONSFactory",
    "ONSPermissionError",
    "ONSTimeoutError",
    "OpenApiClient",
    "OrderAction",
    "OrderConsumer",
    "OrderProducer",
    "Perm",
    "ProcessQueueInfo",
    "Producer",
    "PropertyKeyConst",
    "PropertyValueConst",
    "ProtocolError",
    "PullConsumer",
    "QueueConsumeStats",
    "QueueOffset",
    "QueueOffsets",
    "ResetPosition",
    "RetryPolicyType",
    "RouteBroker",
    "RouteQueues",
    "SendResult",
    "SubscriptionGroupConfig",
    "TopicNotFoundError",
    "TopicRouteInfo",
    "TopicStats",
    "TraceCounts",
    "TrackType",
    "TransactionProducer",
    "TransactionStatus",
]


class Action(str, enum.Enum):
    """A MessageListener's result (a BatchMessageListener's too)."""

    CommitMessage = "CommitMessage"
    ReconsumeLater = "ReconsumeLater"


class OrderAction(str, enum.Enum):
    """A MessageOrderListener's result."""

    Success = "Success"
    Suspend = "Suspend"


class TransactionStatus(str, enum.Enum):
    """The outcome of a local transaction. `Unknow` (the ONS spelling; `Unknown` is an alias)
    leaves the decision to the broker's check-back."""

    CommitTransaction = "CommitTransaction"
    RollbackTransaction = "RollbackTransaction"
    Unknow = "Unknow"
    Unknown = "Unknow"


# The enums of Admin's results and arguments. Results give members of these (their values are
# the names mqadmin and the Java classes use); being str and int enums, they also compare equal
# to those plain values.


class BrokerRole(str, enum.Enum):
    """A broker's role in its broker group (`ClusterBroker.role`): broker id 0 is the master."""

    MASTER = "MASTER"
    SLAVE = "SLAVE"


class Perm(enum.IntFlag):
    """A topic's permission bits (Java `PermName`): `READ | WRITE` for a normal topic."""

    INHERIT = 1
    WRITE = 2
    READ = 4


class ResetPosition(str, enum.Enum):
    """Where `Admin.reset_offsets` moves a group's offsets (a time may be given instead)."""

    #: Each queue's oldest stored message: everything is consumed again.
    EARLIEST = "EARLIEST"
    #: Each queue's end: nothing stored so far is consumed.
    LATEST = "LATEST"


class TrackType(str, enum.Enum):
    """How far a group got with a message (`MessageTrack.track_type`; Java `TrackType`)."""

    CONSUMED = "CONSUMED"
    CONSUMED_BUT_FILTERED = "CONSUMED_BUT_FILTERED"
    PULL = "PULL"
    NOT_CONSUME_YET = "NOT_CONSUME_YET"
    NOT_ONLINE = "NOT_ONLINE"
    CONSUME_BROADCASTING = "CONSUME_BROADCASTING"
    UNKNOWN = "UNKNOWN"


class DirectConsumeResult(str, enum.Enum):
    """A listener's verdict on a message sent to it directly (Java `CMResult`)."""

    CR_SUCCESS = "CR_SUCCESS"
    CR_LATER = "CR_LATER"
    CR_ROLLBACK = "CR_ROLLBACK"
    CR_COMMIT = "CR_COMMIT"
    CR_THROW_EXCEPTION = "CR_THROW_EXCEPTION"
    CR_RETURN_NULL = "CR_RETURN_NULL"


class RetryPolicyType(str, enum.Enum):
    """5.x: the kind of a group's retry back-off (`GroupRetryPolicy.policy_type`)."""

    EXPONENTIAL = "EXPONENTIAL"
    CUSTOMIZED = "CUSTOMIZED"


class OnExceptionContext:
    """What a SendCallback's `on_exception` gets (ONS `OnExceptionContext`): the id of the
    message that failed (None when it was refused before it got one), its topic, and the
    exception."""

    __slots__ = ("message_id", "topic", "exception")

    def __init__(self, message_id: Optional[str], topic: Optional[str], exception: BaseException) -> None:
        self.message_id = message_id
        self.topic = topic
        self.exception = exception

    def __repr__(self) -> str:
        return (f"OnExceptionContext(message_id={self.message_id!r}, topic={self.topic!r}, "
                f"exception={self.exception!r})")


class PropertyValueConst:
    """Values of PropertyKeyConst.MessageModel."""

    CLUSTERING = "CLUSTERING"
    BROADCASTING = "BROADCASTING"


class ONSFactory:
    """The ONS factory. `properties` maps PropertyKeyConst names to values; keyword options
    (`namesrv_addr=`, `group_id=`, ...) are added over it."""

    @staticmethod
    def create_producer(properties: Properties = None, **options: Any) -> Producer:
        return Producer(properties, **options)

    @staticmethod
    def create_order_producer(properties: Properties = None, **options: Any) -> OrderProducer:
        return OrderProducer(properties, **options)

    @staticmethod
    def create_transaction_producer(properties: Properties = None, checker: Any = None,
                                    **options: Any) -> TransactionProducer:
        return TransactionProducer(properties, checker, **options)

    @staticmethod
    def create_consumer(properties: Properties = None, **options: Any) -> Consumer:
        return Consumer(properties, **options)

    @staticmethod
    def create_ordered_consumer(properties: Properties = None, **options: Any) -> OrderConsumer:
        return OrderConsumer(properties, **options)

    create_order_consumer = create_ordered_consumer

    @staticmethod
    def create_batch_consumer(properties: Properties = None, **options: Any) -> BatchConsumer:
        return BatchConsumer(properties, **options)

    @staticmethod
    def create_pull_consumer(properties: Properties = None, **options: Any) -> PullConsumer:
        return PullConsumer(properties, **options)


# The two pump threads (send callbacks, log records): daemon threads, so they never keep the
# interpreter alive. The extension starts them on first use of its runtime in a process (again
# in a forked child), not at import; the exit hook stops them before the interpreter finalizes
# (a thread returning into a finalizing interpreter would be killed mid-Rust).
_pumps: "list[threading.Thread]" = []


def _start_pumps() -> None:
    # Called by the extension once per process; a forked child's list still names the parent's.
    # The helpers are imported here, by the calling thread, and handed to the pumps: a pump that
    # was still importing them when the process forked would leave the child's pumps waiting
    # for that import forever.
    from ._callbacks import call_send_callback, emit_logs

    _pumps.clear()
    for target, helper, name in ((_native._completion_pump, call_send_callback, "rocketmq-ons-completion"),
                                 (_native._log_pump, emit_logs, "rocketmq-ons-log")):
        thread = threading.Thread(target=target, args=(helper,), name=name, daemon=True)
        thread.start()
        _pumps.append(thread)


def _at_exit() -> None:
    # Producers and consumers the application left running are shut down here (consumers
    # commit their offsets), within a bounded time; then the pumps are woken and return at once.
    _native._at_exit(float(os.environ.get("ROCKETMQ_ONS_EXIT_TIMEOUT", "3")))
    for thread in _pumps:
        thread.join(timeout=1.0)


atexit.register(_at_exit)

assert [a.value for a in (Action.CommitMessage, Action.ReconsumeLater)] == list(_native._ACTION_NAMES)
assert [a.value for a in (OrderAction.Success, OrderAction.Suspend)] == list(_native._ORDER_ACTION_NAMES)
assert (Perm.READ, Perm.WRITE) == (_native._PERM_READ, _native._PERM_WRITE)
