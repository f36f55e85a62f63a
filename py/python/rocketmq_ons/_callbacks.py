"""Python-side helpers the extension calls: running listeners and transaction callbacks
(sync or coroutine), resolving asyncio futures in batches, calling send callbacks, and
emitting the core's log records. Everything here catches what user code raises and logs it,
so a core thread never sees a Python exception."""

from __future__ import annotations

import logging
import os
import weakref

# asyncio and inspect are imported where they are needed, typing by type checkers only: the
# pump threads import this module when a process first uses a client, and a script that only
# sends would otherwise wait for those imports (tens of ms) when it exits, which joins the pumps.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from typing import Any, Callable, List, Optional, Tuple

_log = logging.getLogger("rocketmq_ons")
_warned_none: "set[Any]" = set()


def is_async_callable(func: Any) -> bool:
    """True for coroutine functions, bound async methods and objects with an async __call__."""
    import inspect

    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)


def _await_result(result: Any, loop: Optional[asyncio.AbstractEventLoop]) -> Any:
    """The value of `result`, awaiting it first if it is awaitable: on `loop` when there is one
    (this thread waits without the GIL), else with its own event loop."""
    import inspect

    if not inspect.isawaitable(result):
        return result

    import asyncio

    async def wait() -> Any:
        return await result

    if loop is not None:
        return asyncio.run_coroutine_threadsafe(wait(), loop).result()
    return asyncio.run(wait())


def _name(value: Any) -> Any:
    """The enum member's value (its ONS name); strings pass through."""
    return getattr(value, "value", value)


def run_listener(func: Callable[..., Any], loop: Optional[asyncio.AbstractEventLoop], message: Any,
                 context: Any, failure: str) -> Optional[str]:
    """Calls a consumer listener; returns the result's name, or None when it failed. (The
    extension calls sync listeners itself and comes here only for coroutine functions.)"""
    try:
        result = func(message, context)
    except BaseException as e:  # noqa: BLE001 - a listener must never take the consumer down
        listener_raised(func, e, failure)
        return None
    return listener_result(func, loop, result, failure)


def listener_raised(func: Callable[..., Any], error: BaseException, failure: str) -> None:
    _log.error("message listener %r raised; counted as %s", func, failure,
               exc_info=(type(error), error, error.__traceback__))


def listener_result(func: Callable[..., Any], loop: Optional[asyncio.AbstractEventLoop], result: Any,
                    failure: str) -> Optional[str]:
    """The name of a listener's result that is not a plain str (awaitable, None, other)."""
    try:
        result = _await_result(result, loop)
    except BaseException as e:  # noqa: BLE001
        listener_raised(func, e, failure)
        return None
    if result is None:
        if func not in _warned_none:
            _warned_none.add(func)
            _log.warning("message listener %r returned None; counted as %s (return a result: "
                         "Action.CommitMessage / OrderAction.Success on success)", func, failure)
        return None
    name = _name(result)
    if not isinstance(name, str):
        _log.warning("message listener %r returned %r; counted as %s", func, result, failure)
        return None
    return name


def run_transaction_callback(func: Callable[..., Any], loop: Optional[asyncio.AbstractEventLoop],
                             message: Any, arg: Any, what: str) -> str:
    """Calls a local transaction executor (`func(message, arg)`) or checker (`func(message)`);
    returns the TransactionStatus name, `Unknow` when it failed (the broker checks back)."""
    try:
        if what == "transaction checker":
            result = _await_result(func(message), loop)
        else:
            result = _await_result(func(message, arg), loop)
    except BaseException:  # noqa: BLE001
        _log.exception("%s %r raised; the transaction stays unknown", what, func)
        return "Unknow"
    name = _name(result)
    if name not in ("CommitTransaction", "RollbackTransaction", "Unknow"):
        _log.warning("%s %r returned %r, not a TransactionStatus; the transaction stays unknown",
                     what, func, result)
        return "Unknow"
    return str(name)


_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()


def loop_bridge(loop: asyncio.AbstractEventLoop) -> Any:
    """The inbox through which the runtime completes `loop`'s futures (made on first use)."""
    bridge = _bridges.get(loop)
    if bridge is not None and bridge.pid != os.getpid():  # made before a fork, in the parent
        loop.remove_reader(bridge.fileno)
        bridge = None
    if bridge is None:
        from rocketmq_ons._native import _LoopBridge

        bridge = _LoopBridge()
        loop.add_reader(bridge.fileno, bridge.drain)
        weakref.finalize(loop, bridge.close)
        _bridges[loop] = bridge
    return bridge


def call_send_callback(callback: Any, ok: bool, value: Any) -> None:
    """Calls a `send_async(..., callback=)` callback: an ONS SendCallback (an object with
    `on_success` and `on_exception`) as `on_success(result)` or
    `on_exception(OnExceptionContext)`, any other callable as `callback(result, exception)`."""
    try:
        if hasattr(callback, "on_success") and hasattr(callback, "on_exception"):
            if ok:
                callback.on_success(value)
            else:
                from . import OnExceptionContext

                callback.on_exception(OnExceptionContext(getattr(value, "message_id", None),
                                                         getattr(value, "topic", None), value))
        elif ok:
            callback(value, None)
        else:
            callback(None, value)
    except BaseException:  # noqa: BLE001
        _log.exception("send callback %r raised", callback)


def emit_logs(records: List[Tuple[int, str, str]], dropped: int) -> int:
    """Emits the core's log records; returns the level below which the core need not send any."""
    for level, name, message in records:
        logger = logging.getLogger(name)
        if logger.isEnabledFor(level):
            logger.log(level, "%s", message)
    if dropped:
        _log.warning("%d log records of the core were dropped (more than the queue holds)", dropped)
    return _log.getEffectiveLevel()
